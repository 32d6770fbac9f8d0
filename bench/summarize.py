"""Summarizer benchmarks: incremental vs full rebuild, scale, and cached reads (Redis vs database).

    python bench/summarize.py incremental [--interactions 500] [--engine grounded]
    python bench/summarize.py scale [--clients 2000 --per-client 200]
    python bench/summarize.py cached-read --redis redis://127.0.0.1:6379/0 [--reads 2000]

Each command prints a Rich table and writes bench/out/summarize-<command>.json. Databases are
fresh SQLite files under bench/out/ unless --database is given.
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.histories import add_messages, create_histories
from dossier.engines import read_summary, summarize
from dossier.settings import get_settings
from storage.db import session_scope, upgrade_schema
from storage.repository import find_client
from summarizer.cache import RedisCache

OUT = Path(__file__).resolve().parent / "out"
AS_OF = date(2026, 11, 21)
console = Console()


def fresh_database(name: str, url: str | None) -> str:
    """A fresh SQLite file under bench/out (or the given URL), migrated, set as the default."""
    if url is None:
        OUT.mkdir(exist_ok=True)
        path = OUT / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    upgrade_schema(url)
    os.environ["DOSSIER_DATABASE_URL"] = url
    get_settings.cache_clear()
    return url


def report(command: str, rows: list[tuple[str, str]], extra: dict) -> None:
    table = Table("measure", "value", title=f"bench/summarize.py {command}")
    for measure, value in rows:
        table.add_row(measure, value)
    console.print(table)
    OUT.mkdir(exist_ok=True)
    (OUT / f"summarize-{command}.json").write_text(json.dumps({"rows": rows, **extra}, indent=2, default=str))


def incremental(args: argparse.Namespace) -> None:
    """One client with N interactions: full build, then one new message; nodes and tokens compared."""
    url = fresh_database("incremental", args.database)
    create_histories(url, clients=1, per_client=args.interactions)
    started = time.perf_counter()
    full = summarize(all_clients=True, engine_name=args.engine, as_of=AS_OF).results[0]
    full_s = time.perf_counter() - started
    with session_scope(url) as session:
        client_id = find_client(session, "Bench Client 00000").id
    add_messages(url, [client_id], 1)
    started = time.perf_counter()
    update = summarize(dirty=True, engine_name=args.engine, as_of=AS_OF, debounce=timedelta(0)).results[0]
    update_s = time.perf_counter() - started
    token_ratio = update.prompt_tokens / max(full.prompt_tokens, 1)
    rows = [
        ("engine", args.engine),
        ("interactions", str(full.interactions)),
        ("full rebuild: nodes computed / tokens / s", f"{full.nodes_recomputed} / {full.prompt_tokens} / {full_s:.2f}"),
        (
            "one new message: nodes computed / tokens / s",
            f"{update.nodes_recomputed} / {update.prompt_tokens} / {update_s:.2f}",
        ),
        ("tokens, incremental / full", f"{token_ratio:.3f} (goal <= 0.05)"),
        ("nodes, incremental / full", f"{update.nodes_recomputed / max(full.nodes_recomputed, 1):.3f}"),
    ]
    report("incremental", rows, {"token_ratio": token_ratio})


def scale(args: argparse.Namespace) -> None:
    """Many clients: full build time, then refresh after 5 % of clients get 3 new messages each."""
    url = fresh_database("scale", args.database)
    started = time.perf_counter()
    create_histories(url, clients=args.clients, per_client=args.per_client)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    full = summarize(all_clients=True, as_of=AS_OF, workers=args.workers)
    full_s = time.perf_counter() - started
    changed = [r.client_id for r in full.results[::20]]  # 5 %
    add_messages(url, changed, 3)
    started = time.perf_counter()
    refresh = summarize(dirty=True, as_of=AS_OF, debounce=timedelta(0), workers=args.workers)
    refresh_s = time.perf_counter() - started
    interactions = args.clients * args.per_client
    rows = [
        ("clients x interactions", f"{args.clients} x {args.per_client} = {interactions}"),
        ("workers", str(args.workers)),
        ("insert (not summarization)", f"{load_s:.1f} s"),
        ("full build", f"{full_s:.1f} s ({interactions / full_s:.0f} interactions/s; goal <= 600 s)"),
        ("failed clients", str(len(full.failed))),
        (
            "refresh after 5 % of clients got 3 messages",
            f"{refresh_s:.1f} s for {len(refresh.results)} clients (goal <= 30 s)",
        ),
        (
            "refresh nodes recomputed / total",
            f"{sum(r.nodes_recomputed for r in refresh.results)} / {sum(r.nodes_total for r in refresh.results)}",
        ),
    ]
    report("scale", rows, {"full_s": full_s, "refresh_s": refresh_s})


def cached_read(args: argparse.Namespace) -> None:
    """p50/p99 of reading a brief from Redis vs from the database, same client, same run."""
    url = fresh_database("cached-read", args.database)
    create_histories(url, clients=20, per_client=50)
    os.environ["DOSSIER_REDIS_URL"] = args.redis
    get_settings.cache_clear()
    cache = RedisCache(args.redis)
    cache._redis.flushdb()
    summarize(all_clients=True, as_of=AS_OF)

    class NoCache:
        def get(self, key):
            return None

        def put(self, key, summary):
            pass

    def timings(reader_cache) -> list[float]:
        samples = []
        for n in range(args.reads):
            started = time.perf_counter()
            view = read_summary(ids[n % 20], "brief", "en", cache=reader_cache)
            samples.append((time.perf_counter() - started) * 1000)
            assert view is not None
        return samples

    with session_scope(url) as session:
        ids = [str(find_client(session, f"Bench Client {n:05d}").id) for n in range(20)]
    from_cache, from_db = timings(cache), timings(NoCache())

    def pct(samples: list[float], q: int) -> float:
        return statistics.quantiles(samples, n=100)[q - 1]

    rows = [
        ("reads each", str(args.reads)),
        ("Redis cache p50 / p99 ms", f"{pct(from_cache, 50):.2f} / {pct(from_cache, 99):.2f} (goal p99 <= 5)"),
        ("database p50 / p99 ms", f"{pct(from_db, 50):.2f} / {pct(from_db, 99):.2f}"),
        ("p50 speed-up", f"{pct(from_db, 50) / pct(from_cache, 50):.1f}x"),
    ]
    report("cached-read", rows, {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="database URL instead of a fresh SQLite file")
    sub = parser.add_subparsers(dest="command", required=True)
    inc = sub.add_parser("incremental")
    inc.add_argument("--interactions", type=int, default=500)
    inc.add_argument("--engine", default="grounded")
    sc = sub.add_parser("scale")
    sc.add_argument("--clients", type=int, default=2000)
    sc.add_argument("--per-client", type=int, default=200)
    sc.add_argument("--workers", type=int, default=2)
    cr = sub.add_parser("cached-read")
    cr.add_argument("--redis", required=True)
    cr.add_argument("--reads", type=int, default=2000)
    args = parser.parse_args()
    {"incremental": incremental, "scale": scale, "cached-read": cached_read}[args.command](args)


if __name__ == "__main__":
    main()
