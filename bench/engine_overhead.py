"""Engine overhead: llamacpp engine prompt tokens/s vs bare llama-cpp-python on the same chunks, same run.

    python bench/engine_overhead.py [--chunks 6]

Passes alternate (bare, engine, engine, bare) and each walks every chunk in turn, so no call finds its
own chunk in llama.cpp's prefix cache, only the shared system prompt. Goal: ratio >= 0.8.
"""

import argparse
import logging
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dossier.engines import llamacpp_options
from dossier.settings import Settings
from summarizer.engines.llamacpp import LlamaCppEngine
from summarizer.engines.llm import answer_schema, sources_text
from summarizer.engines.options import LLMOptions
from summarizer.notes import SourceItem
from summarizer.prompts import load_prompt
from summarizer.testing import CHUNK_A, CHUNK_B

ROLES = {"system": "system", "human": "user"}


def make_chunks(count: int) -> list[list[SourceItem]]:
    texts = [item.text for item in CHUNK_A + CHUNK_B]
    start = datetime(2026, 3, 1, tzinfo=UTC)
    return [
        [
            SourceItem(
                interaction_id=1000 * n + k,
                occurred_at=start + timedelta(days=k),
                channel="email",
                direction="inbound",
                author="Client",
                subject=None,
                text=texts[(n + k) % len(texts)] * 3,
            )
            for k in range(4)
        ]
        for n in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=6)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    local = llamacpp_options(Settings(_env_file=None, llamacpp_n_ctx=2048))  # the packaged model, as users get it
    engine = LlamaCppEngine(
        llamacpp=local, llm=LLMOptions(max_tokens=16, max_claims=1, attempts=1, timeout_seconds=600)
    )
    llm = engine.tokenizer
    chunks = make_chunks(args.chunks)

    def bare(chunk: list[SourceItem]) -> int:
        messages = load_prompt("map").format_messages(sources=sources_text(chunk), **engine._common_variables())
        schema = answer_schema({i.interaction_id for i in chunk}, timestamps=False, max_claims=1)
        answer = llm.create_chat_completion(
            [{"role": ROLES[m.type], "content": m.content} for m in messages],
            max_tokens=16,
            temperature=0,
            response_format={"type": "json_object", "schema": schema},
        )
        return answer["usage"]["prompt_tokens"]

    def engine_pass() -> tuple[int, float]:
        started, tokens = time.perf_counter(), 0
        for chunk in chunks:
            before = engine.usage.prompt_tokens
            engine.map(chunk)
            tokens += engine.usage.prompt_tokens - before
        return tokens, time.perf_counter() - started

    def bare_pass() -> tuple[int, float]:
        started = time.perf_counter()
        return sum(bare(chunk) for chunk in chunks), time.perf_counter() - started

    bare(chunks[-1])  # warm-up: model loaded, system prompt cached
    totals = {"engine": [0, 0.0], "bare": [0, 0.0]}
    for name, run in (("bare", bare_pass), ("engine", engine_pass), ("engine", engine_pass), ("bare", bare_pass)):
        tokens, seconds = run()
        totals[name][0] += tokens
        totals[name][1] += seconds
        print(f"{name:6} pass: {tokens} prompt tokens in {seconds:.2f} s", flush=True)
    (engine_tokens, engine_s), (bare_tokens, bare_s) = totals["engine"], totals["bare"]
    print(
        f"engine {engine_tokens / engine_s:.1f} prompt tok/s, bare {bare_tokens / bare_s:.1f} prompt tok/s, "
        f"ratio {(engine_tokens / engine_s) / (bare_tokens / bare_s):.2f} (goal >= 0.8)"
    )


if __name__ == "__main__":
    main()
