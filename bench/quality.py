"""Summary quality: fact recall on real client histories, ROUGE on public dialogue sets next to lead-3,
and fact recall on planted histories.

    python bench/quality.py [--case-engines grounded,hybrid,llamacpp,openai] [--cases DIR] [--case-names A,B]
                            [--openai-server GGUF] [--llamacpp-model GGUF]
                            [--limit 100] [--engines grounded,llamacpp] [--fact-engines grounded]
                            [--clients 50 --per-client 100] [--skip-cases] [--skip-rouge] [--skip-facts]

0. **Real client histories** (``../shared/data/client_histories``: real e-mail and chat histories with
   gold facts, forbidden false statements and a reference brief). Each case is imported as a user would
   (``mail/*.eml`` as e-mail, ``chat.txt`` as a WhatsApp export) into a fresh database, all of it
   assigned to one neutral client name ("client 1" …) so the name gives nothing away, summarized by
   each engine as of the day after its last message, and every format is scored by
   ``../shared/tools/score_summary.py``: fact recall, forbidden hits, numbers found in no source, words,
   plus seconds, model tokens and model seconds (time inside model calls) per client, and structured
   recall per model second. A last table compares the engines side by side.

1. **ROUGE** (``rouge_score``, F1, Porter stemming) on ``../shared/data/dialogsum/dev`` and
   ``../shared/data/tweetsumm/dev`` (the first ``--limit`` records of each). Every dialogue becomes one
   client: one chat interaction per turn, the speaker as author, one minute apart. Each engine
   summarizes it; the **brief** is scored with citation markers, Markdown and the header lines
   stripped, against every human reference (the best reference counts, per measure). The lead-3
   baseline (the first three turns' text) is scored on the same dialogues in the same run.
2. **Fact recall** on ``bench.histories.create_histories`` clients (known planted facts: purchase,
   promise with due date, contact preference, person with role, rare risk): per format, the share of
   facts whose identifying fragments all occur in that format's Markdown, plus the ungrounded claims
   the run reported.

Engines are named as registered (grounded, hybrid, llamacpp, openai, plug-ins). The ``openai`` rows talk to
llama-cpp-python's OpenAI-compatible server started for them on a free loopback port (``--openai-server
GGUF``, default the 0.5B test model) unless ``DOSSIER_OPENAI_BASE_URL`` is set and ``--openai-server`` is not
given; the server is stopped when those rows end. The ``llamacpp`` and ``hybrid`` rows use the packaged 1.5B
model unless ``--llamacpp-model`` (or ``DOSSIER_LLAMACPP_MODEL``) says otherwise. Run anything that loads a
model under ``flock /tmp/llama.lock``.

Prints Rich tables and writes bench/out/quality.json. Databases are fresh SQLite files under bench/out/.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from unittest import mock

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.histories import FACTS as PLANTED_TEMPLATES
from bench.histories import _row, create_histories
from bench.llama_server import SERVED_MODEL, llama_server
from bench.model_time import timing_model_calls
from bench.summarize import AS_OF, OUT, fresh_database
from dossier.engines import read_summary, summarize
from dossier.settings import get_settings
from ingest.pipeline import import_paths
from storage import repository
from storage.db import session_scope
from storage.models import Channel
from summarizer.cache import LocalCache
from summarizer.engines import engine_names
from summarizer.service import FORMATS

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
DATA = SHARED / "data"
CASES = DATA / "client_histories"
SCORER = SHARED / "tools" / "score_summary.py"
#: The model the openai rows are served by when neither --openai-server nor DOSSIER_OPENAI_BASE_URL is given.
DEFAULT_SERVER_MODEL = Path("/var/cache/dossier-models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
SERVER_LOG = OUT / "llama-server.log"
DATASETS = {
    "dialogsum": DATA / "dialogsum" / "dev" / "dialogsum_dev.jsonl",
    "tweetsumm": DATA / "tweetsumm" / "dev" / "tweetsumm_dev.jsonl",
}
MEASURES = ("rouge1", "rouge2", "rougeL")
FACT_KINDS = ("purchase", "promise", "preference", "person", "risk")
# Which planted facts each format is meant to show (render.py): the brief names purchases, status and
# the top risk, open actions, people and a preference; the timeline only dated events, purchases,
# agreements and risks; the action list only actions.
INTENDED = {"brief": FACT_KINDS, "structured": FACT_KINDS, "timeline": ("purchase", "risk"), "actions": ("promise",)}
DIALOGUE_START = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)
LANGUAGE = "en"

CITATION = re.compile(r"\s*\[#\d+(?: @[\d:]+)?\]")
console = Console(width=200)


# --- text ------------------------------------------------------------------------------------------


def plain_brief(markdown: str) -> str:
    """The brief's text: header lines (``## title`` and the ``_as of …_`` line), citation markers and
    Markdown emphasis removed, whitespace collapsed."""
    lines = [
        line
        for line in markdown.splitlines()
        if line.strip()
        and not line.lstrip().startswith("#")
        and not (line.strip().startswith("_") and line.strip().endswith("_"))
    ]
    text = CITATION.sub("", "\n".join(lines))
    text = re.sub(r"(\*\*|__|`)", "", text)
    text = re.sub(r"^\s*[-*]\s+", "", text, flags=re.MULTILINE)
    return " ".join(text.split())


def brief_claims_only(content: dict[str, Any]) -> str:
    """Diagnostic: only the brief's sentences that cite a source (no "… is not known yet" fillers)."""
    return " ".join(s["text"] for s in content.get("sentences", []) if s.get("citations"))


def lead3(record: dict[str, Any]) -> str:
    return " ".join(turn["text"] for turn in record["turns"][:3])


# --- engine settings -----------------------------------------------------------------------------


@contextmanager
def settings_overridden(values: dict[str, str]) -> Iterator[None]:
    """The ``DOSSIER_*`` environment ``values`` in force for the block (settings re-read), then the previous."""
    try:
        with mock.patch.dict(os.environ, values):
            get_settings.cache_clear()
            yield
    finally:
        get_settings.cache_clear()


def openai_server_model(engine: str, args: argparse.Namespace) -> Path | None:
    """The GGUF to serve for ``engine``'s rows: only for ``openai``, ``--openai-server`` if given, else the 0.5B
    model unless ``DOSSIER_OPENAI_BASE_URL`` names an endpoint already."""
    if engine != "openai":
        return None
    if args.openai_server:
        return Path(args.openai_server)
    return None if get_settings().openai_base_url else DEFAULT_SERVER_MODEL


def served_openai_settings(base_url: str, n_ctx: int) -> dict[str, str]:
    """The openai engine's settings for llama-cpp-python's server at ``base_url`` (no authentication)."""
    return {
        "DOSSIER_OPENAI_BASE_URL": base_url,
        "DOSSIER_OPENAI_MODEL": SERVED_MODEL,
        "DOSSIER_OPENAI_MAP_MODEL": SERVED_MODEL,
        "DOSSIER_OPENAI_API_KEY": "unused",
        "DOSSIER_OPENAI_CONTEXT_TOKENS": str(n_ctx),
        "DOSSIER_OPENAI_RESPONSE_FORMAT": "json_object",
        "DOSSIER_OPENAI_LEGACY_MAX_TOKENS": "true",
    }


@contextmanager
def engine_settings(engine: str, args: argparse.Namespace) -> Iterator[None]:
    """The settings ``engine``'s rows run with: ``--llamacpp-model``, and for ``openai`` a llama.cpp server
    started for the block (context and threads from ``DOSSIER_LLAMACPP_N_CTX`` / ``_THREADS``)."""
    values = {"DOSSIER_LLAMACPP_MODEL": args.llamacpp_model} if args.llamacpp_model else {}
    gguf = openai_server_model(engine, args)
    with ExitStack() as stack:
        if gguf is not None:
            settings = get_settings()
            n_ctx = settings.llamacpp_n_ctx
            console.print(f"starting llama-cpp-python's server for {engine}: {gguf} (n_ctx {n_ctx})")
            base_url = stack.enter_context(
                llama_server(gguf, n_ctx=n_ctx, threads=settings.llamacpp_threads, log=SERVER_LOG)
            )
            values |= served_openai_settings(base_url, n_ctx)
        stack.enter_context(settings_overridden(values))
        yield


# --- real client histories ------------------------------------------------------------------------


def case_dirs(root: Path, names: list[str] | None = None) -> list[Path]:
    """The case folders under ``root`` (each has a gold.json), only those ``names`` if given."""
    cases = sorted(path.parent for path in root.glob("*/gold.json"))
    if names is None:
        return cases
    unknown = sorted(set(names) - {case.name for case in cases})
    if unknown:
        raise SystemExit(f"no such case under {root}: {', '.join(unknown)}; have: {', '.join(c.name for c in cases)}")
    return [case for case in cases if case.name in names]


def import_case(url: str, case: Path, client: str) -> datetime:
    """Import a case's mail and chat as one client; returns the time of its newest message."""
    paths = sorted((case / "mail").glob("*.eml")) if (case / "mail").is_dir() else []
    if paths:
        import_paths(paths, kind="email", client=client, database_url=url)
    if (case / "chat.txt").is_file():
        import_paths([case / "chat.txt"], kind="whatsapp", client=client, database_url=url)
    with session_scope(url) as session:
        found = repository.find_client(session, client)
        history = repository.client_history(session, found.id) if found else []
    return max(item.occurred_at for item in history)


def score(case: Path, markdown: str, path: Path) -> dict[str, Any]:
    """``score_summary.py``'s verdict on one summary, written to ``path`` first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(SCORER), str(case), str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def case_benchmark(args: argparse.Namespace, engine: str) -> dict[str, Any]:
    """Every case summarized by ``engine`` and every format scored."""
    cases = case_dirs(Path(args.cases), _names(args.case_names) if args.case_names else None)
    per_case: list[dict[str, Any]] = []
    for index, case in enumerate(cases, start=1):
        client = f"client {index}"
        url = fresh_database(f"quality-case-{engine}-{index}", None)
        newest = import_case(url, case, client)
        started = time.perf_counter()
        with timing_model_calls() as model:
            report = summarize(
                [client],
                engine_name=engine,
                languages=[LANGUAGE],
                as_of=(newest + timedelta(days=1)).date(),
                database_url=url,
            )
        seconds = time.perf_counter() - started
        formats = {}
        for fmt in FORMATS:
            view = read_summary(client, fmt, LANGUAGE, database_url=url, cache=LocalCache())
            markdown = view.summary.markdown if view else ""
            formats[fmt] = score(case, markdown, OUT / "cases" / engine / case.name / f"{fmt}.md")
        per_case.append(
            {
                "case": case.name,
                "seconds": seconds,
                "model_seconds": model.seconds,
                "model_calls": model.calls,
                "model_prompt_tokens": model.prompt_tokens,
                "model_completion_tokens": model.completion_tokens,
                "failed": [r.error for r in report.failed],
                # the engine's own accounting: a deterministic engine counts the tokens it read
                "prompt_tokens": report.usage.prompt_tokens,
                "completion_tokens": report.usage.completion_tokens,
                "fallbacks": report.usage.fallbacks,
                "formats": formats,
            }
        )
    result = {"engine": engine, "cases": per_case, "mean": _case_means(per_case)}
    _case_table(result)
    return result


def _case_means(per_case: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    count = max(len(per_case), 1)
    means: dict[str, dict[str, float | None]] = {}
    for fmt in FORMATS:
        scores = [case["formats"][fmt] for case in per_case]
        means[fmt] = {
            "recall": sum(s["fact_recall"] for s in scores) / count,
            "recall_min": min((s["fact_recall"] for s in scores), default=0.0),
            "recall_max": max((s["fact_recall"] for s in scores), default=0.0),
            "unsupported": sum(len(s["unsupported_numbers"]) for s in scores),
            "forbidden": sum(len(s["forbidden_hits"]) for s in scores),
            "words": sum(s["words"] for s in scores) / count,
        }
    model_seconds = sum(c["model_seconds"] for c in per_case) / count
    means["client"] = {
        "seconds": sum(c["seconds"] for c in per_case) / count,
        "tokens": sum(c["model_prompt_tokens"] + c["model_completion_tokens"] for c in per_case) / count,
        "model_seconds": model_seconds,
        "structured_recall_per_model_second": means["structured"]["recall"] / model_seconds if model_seconds else None,
        "fallbacks": sum(c["fallbacks"] for c in per_case),
        "failed": sum(len(c["failed"]) for c in per_case),
    }
    return means


def _case_table(result: dict[str, Any]) -> None:
    mean, cases = result["mean"], result["cases"]
    table = Table(
        "format",
        "fact recall (mean)",
        "per case (min-max)",
        "unsupported numbers",
        "forbidden hits",
        "words",
        title=f"real client histories, {result['engine']}: {len(cases)} cases; per client "
        f"{mean['client']['seconds']:.1f} s ({mean['client']['model_seconds']:.1f} s in model calls), "
        f"{mean['client']['tokens']:.0f} model tokens; {mean['client']['fallbacks']} fallbacks, "
        f"{mean['client']['failed']:.0f} failed",
    )
    for fmt in FORMATS:
        row = mean[fmt]
        table.add_row(
            fmt,
            f"{row['recall']:.2f}",
            f"{row['recall_min']:.2f}-{row['recall_max']:.2f}",
            str(row["unsupported"]),
            str(row["forbidden"]),
            f"{row['words']:.0f}",
        )
    console.print(table)
    detail = Table("case", *FORMATS, "seconds", "model seconds", title=f"fact recall per case, {result['engine']}")
    for case in cases:
        detail.add_row(
            case["case"],
            *(f"{case['formats'][f]['fact_recall']:.2f}" for f in FORMATS),
            f"{case['seconds']:.1f}",
            f"{case['model_seconds']:.1f}",
        )
    console.print(detail)
    for case in cases:
        if case["completion_tokens"] and not case["model_calls"]:
            console.print(f"[yellow]{result['engine']}, {case['case']}: tokens were used but no model call was timed")
        for error in case["failed"]:
            console.print(f"[red]{result['engine']}, {case['case']} failed: {error}")


def engines_table(results: list[dict[str, Any]]) -> None:
    """Every engine's means side by side, with structured recall per second of model time."""
    table = Table(
        "engine",
        *(f"{fmt} recall" for fmt in FORMATS),
        "unsupported numbers",
        "forbidden hits",
        "words (brief / structured)",
        "s / client",
        "model tokens / client",
        "model s / client",
        "structured recall / model s",
        "failed",
        title=f"engines on real client histories ({len(results[0]['cases'])} cases)",
    )
    for result in results:
        mean = result["mean"]
        client = mean["client"]
        per_second = client["structured_recall_per_model_second"]
        table.add_row(
            result["engine"],
            *(f"{mean[fmt]['recall']:.2f}" for fmt in FORMATS),
            str(sum(mean[fmt]["unsupported"] for fmt in FORMATS)),
            str(sum(mean[fmt]["forbidden"] for fmt in FORMATS)),
            f"{mean['brief']['words']:.0f} / {mean['structured']['words']:.0f}",
            f"{client['seconds']:.1f}",
            f"{client['tokens']:.0f}",
            f"{client['model_seconds']:.1f}",
            "no model" if per_second is None else f"{per_second:.4f}",
            str(client["failed"]),
        )
    console.print(table)


# --- ROUGE -----------------------------------------------------------------------------------------


def load_records(name: str, limit: int) -> list[dict[str, Any]]:
    records = []
    with DATASETS[name].open(encoding="utf-8") as file:
        for line in file:
            if line.strip():
                records.append(json.loads(line))
            if len(records) == limit:
                break
    return records


def import_dialogues(url: str, dataset: str, records: list[dict[str, Any]]) -> list[str]:
    """One client per dialogue, one chat interaction per turn; returns the client names."""
    names = []
    with session_scope(url) as session:
        for index, record in enumerate(records):
            name = f"{dataset} dialogue {index:04d}"
            client_id = repository.get_or_create_client(session, name)
            speakers: list[str] = []
            rows = []
            for n, turn in enumerate(record["turns"]):
                speaker = turn["speaker"].strip("#") or "Unknown"
                if speaker not in speakers:
                    speakers.append(speaker)
                # tweetsumm: the customer writes in, the company's agent answers; dialogsum: the first
                # speaker counts as the client side.
                inbound = speaker == "Customer" if dataset == "tweetsumm" else speaker == speakers[0]
                rows.append(
                    _row(
                        client_id,
                        n,
                        DIALOGUE_START + timedelta(minutes=n),
                        Channel.CHAT,
                        "inbound" if inbound else "outbound",
                        speaker,
                        turn["text"],
                    )
                )
            repository.insert_interactions(session, rows)
            names.append(name)
    return names


def rouge_scores(scorer, candidates: list[str], references: list[list[str]]) -> dict[str, float]:
    """Mean F1 x 100 per measure; each dialogue's best reference counts, per measure."""
    totals = dict.fromkeys(MEASURES, 0.0)
    for candidate, refs in zip(candidates, references, strict=True):
        best = dict.fromkeys(MEASURES, 0.0)
        for reference in refs:
            scores = scorer.score(reference, candidate)
            for measure in MEASURES:
                best[measure] = max(best[measure], scores[measure].fmeasure)
        for measure in MEASURES:
            totals[measure] += best[measure]
    return {m: 100 * totals[m] / max(len(candidates), 1) for m in MEASURES}


def rouge_benchmark(args: argparse.Namespace, engines: list[str]) -> dict[str, Any]:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(MEASURES), use_stemmer=True)
    results: dict[str, Any] = {}
    for dataset in DATASETS:
        records = load_records(dataset, args.limit)
        references = [[r for r in record["references"] if r.strip()] for record in records]
        rows: list[dict[str, Any]] = []
        lead = rouge_scores(scorer, [lead3(r) for r in records], references)
        rows.append({"system": "lead-3 (baseline)", **lead, "words": _mean_words([lead3(r) for r in records])})
        examples: dict[str, Any] = {"reference": references[0][0], "lead-3": lead3(records[0])}
        for engine in engines:
            with engine_settings(engine, args):
                engine_rows, engine_examples = _rouge_engine(scorer, dataset, records, references, engine)
            rows.extend(engine_rows)
            examples.update(engine_examples)
        for row in rows:
            row.update({f"{m}/lead-3": row[m] / lead[m] if lead[m] else None for m in MEASURES})
        results[dataset] = {"dialogues": len(records), "rows": rows, "example": examples}
        _rouge_table(dataset, len(records), rows)
    return results


def _rouge_engine(
    scorer: Any, dataset: str, records: list[dict[str, Any]], references: list[list[str]], engine: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``engine``'s ROUGE rows on ``records`` (its brief, and its cited sentences only) and its example brief."""
    url = fresh_database(f"quality-{dataset}-{engine}", None)
    names = import_dialogues(url, dataset, records)
    started = time.perf_counter()
    report = summarize(all_clients=True, engine_name=engine, languages=[LANGUAGE], as_of=AS_OF, database_url=url)
    seconds = time.perf_counter() - started
    by_name = {}
    for name in names:
        view = read_summary(name, "brief", LANGUAGE, database_url=url, cache=LocalCache())
        by_name[name] = view.summary if view else None
    briefs = [plain_brief(by_name[n].markdown) if by_name[n] else "" for n in names]
    claims = [brief_claims_only(by_name[n].content) if by_name[n] else "" for n in names]
    rows = [
        {
            "system": f"{engine} brief",
            **rouge_scores(scorer, briefs, references),
            "words": _mean_words(briefs),
            "seconds": seconds,
            "failed": len(report.failed),
            "ungrounded": sum(r.ungrounded for r in report.results),
            "fallbacks": report.usage.fallbacks,
            # the overview sentence always cites; nothing else cited = only fillers
            "briefs_with_overview_only": sum(
                1
                for n in names
                if by_name[n] and sum(1 for s in by_name[n].content.get("sentences", []) if s.get("citations")) <= 1
            ),
        },
        {
            "system": f"{engine} brief, cited sentences only (diagnostic)",
            **rouge_scores(scorer, claims, references),
            "words": _mean_words(claims),
        },
    ]
    examples: dict[str, Any] = {f"{engine} brief": briefs[0]}
    if report.failed:
        examples[f"{engine} errors"] = sorted({r.error for r in report.failed})[:5]
    return rows, examples


def _mean_words(texts: list[str]) -> float:
    return sum(len(t.split()) for t in texts) / max(len(texts), 1)


def _rouge_table(dataset: str, count: int, rows: list[dict[str, Any]]) -> None:
    table = Table(
        "system",
        "ROUGE-1",
        "ROUGE-2",
        "ROUGE-L",
        "R-1 / lead-3",
        "R-2 / lead-3",
        "R-L / lead-3",
        "words",
        "ungrounded",
        "overview-only briefs",
        title=f"{dataset} dev, first {count} dialogues (F1 x 100, best reference)",
    )
    for row in rows:
        table.add_row(
            row["system"],
            *(f"{row[m]:.2f}" for m in MEASURES),
            *(f"{row[f'{m}/lead-3']:.2f}" for m in MEASURES),
            f"{row['words']:.0f}",
            str(row.get("ungrounded", "")),
            str(row.get("briefs_with_overview_only", "")),
        )
    console.print(table)


# --- fact recall -----------------------------------------------------------------------------------


def fact_benchmark(args: argparse.Namespace, engine: str) -> dict[str, Any]:
    url = fresh_database(f"quality-facts-{engine}", None)
    planted = create_histories(url, clients=args.clients, per_client=args.per_client, seed=args.seed)
    started = time.perf_counter()
    report = summarize(all_clients=True, engine_name=engine, languages=[LANGUAGE], as_of=AS_OF, database_url=url)
    seconds = time.perf_counter() - started
    found = {fmt: defaultdict(int) for fmt in FORMATS}
    same_line = {fmt: defaultdict(int) for fmt in FORMATS}
    person_role = dict.fromkeys(FORMATS, 0)
    missing: dict[str, dict[str, list[str]]] = {fmt: defaultdict(list) for fmt in FORMATS}
    languages = defaultdict(int)
    for facts in planted:
        languages[facts.language] += 1
        for fmt in FORMATS:
            view = read_summary(facts.client, fmt, LANGUAGE, database_url=url, cache=LocalCache())
            markdown = view.summary.markdown if view else ""
            lines = markdown.splitlines()
            for kind, fragments in facts.facts.items():
                if all(fragment in markdown for fragment in fragments):
                    found[fmt][kind] += 1
                elif len(missing[fmt][kind]) < 3:
                    missing[fmt][kind].append(f"{facts.client} ({facts.language})")
                if any(all(fragment in line for fragment in fragments) for line in lines):
                    same_line[fmt][kind] += 1
            # Stricter for the person: the surname alone also matches an action's owner, so the
            # person counts as stated only when their role is on the same line.
            role = PLANTED_TEMPLATES[facts.language]["person"].split(", ", 1)[1]
            surname = facts.facts["person"][-1]
            if any(surname in line and role in line for line in lines):
                person_role[fmt] += 1
    total = len(planted)
    per_format = {}
    for fmt in FORMATS:
        intended = INTENDED[fmt]
        per_format[fmt] = {
            "recall": sum(found[fmt].values()) / (total * len(FACT_KINDS)),
            "recall_same_line": sum(same_line[fmt].values()) / (total * len(FACT_KINDS)),
            "recall_intended": sum(found[fmt][k] for k in intended) / (total * len(intended)),
            "intended_kinds": list(intended),
            "per_kind": {kind: found[fmt][kind] / total for kind in FACT_KINDS},
            "person_with_role": person_role[fmt] / total,
            "recall_person_with_role": (sum(found[fmt][k] for k in FACT_KINDS if k != "person") + person_role[fmt])
            / (total * len(FACT_KINDS)),
            "missing_examples": dict(missing[fmt]),
        }
    result = {
        "engine": engine,
        "clients": total,
        "per_client": args.per_client,
        "seed": args.seed,
        "languages": dict(languages),
        "seconds": seconds,
        "failed": len(report.failed),
        "ungrounded": sum(r.ungrounded for r in report.results),
        "fallbacks": report.usage.fallbacks,
        "formats": per_format,
    }
    _fact_table(result)
    return result


def _fact_table(result: dict[str, Any]) -> None:
    table = Table(
        "format",
        "recall (all facts)",
        *FACT_KINDS,
        "person + role",
        "recall, person needs role",
        "recall, kinds the format shows",
        title=f"fact recall, {result['engine']}: {result['clients']} clients x {result['per_client']} "
        f"interactions ({', '.join(f'{k} {v}' for k, v in sorted(result['languages'].items()))}); "
        f"ungrounded claims: {result['ungrounded']}, failed clients: {result['failed']}",
    )
    for fmt, row in result["formats"].items():
        goal = " (goal >= 0.8)" if fmt == "structured" else ""
        shown = "/".join(row["intended_kinds"]) if fmt in ("timeline", "actions") else "all"
        table.add_row(
            fmt,
            f"{row['recall']:.2f}{goal}",
            *(f"{row['per_kind'][k]:.2f}" for k in FACT_KINDS),
            f"{row['person_with_role']:.2f}",
            f"{row['recall_person_with_role']:.2f}",
            f"{row['recall_intended']:.2f} ({shown})",
        )
    console.print(table)


def _names(text: str) -> list[str]:
    return [name for name in text.split(",") if name]


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends the run like Ctrl-C does: cleanup (the llama.cpp server) still runs."""
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=str(CASES), help="folder of client-history cases")
    parser.add_argument("--case-names", help="only these cases (folder names), comma-separated")
    parser.add_argument("--case-engines", default="grounded", help="engines for the real histories, comma-separated")
    parser.add_argument("--skip-cases", action="store_true")
    parser.add_argument(
        "--openai-server",
        metavar="GGUF",
        help="serve this model with llama-cpp-python's server for the openai rows (default: the 0.5B model, "
        "unless DOSSIER_OPENAI_BASE_URL is set)",
    )
    parser.add_argument(
        "--llamacpp-model", metavar="GGUF", help="model of the llamacpp and hybrid rows (default: the packaged 1.5B)"
    )
    parser.add_argument("--limit", type=int, default=100, help="dialogues per dataset (default 100)")
    parser.add_argument("--engines", default="grounded", help="engines for ROUGE, comma-separated")
    parser.add_argument("--fact-engines", default="grounded", help="engines for fact recall, comma-separated")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--per-client", type=int, default=100)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--skip-rouge", action="store_true")
    parser.add_argument("--skip-facts", action="store_true")
    args = parser.parse_args()
    case_engines, engines, fact_engines = _names(args.case_engines), _names(args.engines), _names(args.fact_engines)
    unknown = sorted({*case_engines, *engines, *fact_engines} - set(engine_names()))
    if unknown:
        parser.error(f"unknown engine {', '.join(unknown)}; available: {', '.join(engine_names())}")
    signal.signal(signal.SIGTERM, _exit_on_signal)
    # Every dataset and engine gets its own SQLite file whose client ids overlap: summaries must come
    # from that file, never from a Redis cache shared between them.
    os.environ.pop("DOSSIER_REDIS_URL", None)
    get_settings.cache_clear()
    output: dict[str, Any] = {
        "command": " ".join(["python", "bench/quality.py", *sys.argv[1:]]),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "as_of": AS_OF.isoformat(),
        "language": LANGUAGE,
    }
    if not args.skip_cases and case_engines:
        output["cases"] = []
        for engine in case_engines:
            with engine_settings(engine, args):
                output["cases"].append(case_benchmark(args, engine))
        engines_table(output["cases"])
    if not args.skip_rouge:
        output["rouge"] = rouge_benchmark(args, engines)
    if not args.skip_facts:
        output["facts"] = []
        for engine in fact_engines:
            with engine_settings(engine, args):
                output["facts"].append(fact_benchmark(args, engine))
    OUT.mkdir(exist_ok=True)
    path = OUT / "quality.json"
    path.write_text(json.dumps(output, indent=2, ensure_ascii=False, default=str))
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
