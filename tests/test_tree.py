"""The summary tree: bucketing, chunking without truncation, and incremental rebuilds."""

from datetime import UTC, datetime, timedelta

import pytest

from summarizer.notes import SourceItem
from summarizer.tree import (
    StoredNode,
    SummarizeError,
    TreeBuilder,
    bucket_end,
    bucket_start,
    chunk_items,
)
from tests.fake_engine import FakeEngine

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)  # a Monday


def item(n: int, day: int, text: str = "Routine update about the order.") -> SourceItem:
    return SourceItem(
        interaction_id=n,
        occurred_at=START + timedelta(days=day, minutes=n),
        channel="email",
        direction="inbound",
        author="Ivan",
        subject=None,
        text=f"{text} #{n}",
    )


def history(count: int) -> list[SourceItem]:
    return [item(n, n % 400) for n in range(1, count + 1)]


def stored_from(tree) -> dict:
    return {(n.level, n.start, n.chunk): StoredNode(n.input_hash, n.notes) for n in tree.nodes}


def test_buckets():
    moment = datetime(2025, 3, 13, 15, 30, tzinfo=UTC)  # Thursday
    assert bucket_start("week", moment) == datetime(2025, 3, 10, tzinfo=UTC)
    assert bucket_start("month", moment) == datetime(2025, 3, 1, tzinfo=UTC)
    assert bucket_end("month", datetime(2025, 12, 1, tzinfo=UTC)) == datetime(2026, 1, 1, tzinfo=UTC)
    assert bucket_end("year", datetime(2025, 1, 1, tzinfo=UTC)) == datetime(2026, 1, 1, tzinfo=UTC)


def test_tree_levels_end_in_one_root():
    tree = TreeBuilder(FakeEngine(), {}, client="Alpha").build(history(50))
    levels = [n.level for n in tree.nodes]
    assert levels[-1] == "root" and levels.count("root") == 1
    assert {"chunk", "day", "week", "month", "year"} <= set(levels)
    cited = {c.interaction_id for claim in tree.root.notes.claims for c in claim.sources}
    assert cited <= set(range(1, 51))


def test_new_message_recomputes_only_its_path():
    engine = FakeEngine()
    items = history(500)
    first = TreeBuilder(engine, {}, client="Alpha").build(items)
    full_tokens = engine.usage.prompt_tokens
    engine.usage.prompt_tokens = 0
    engine.map_calls = engine.reduce_calls = 0
    newest_day = max(i.occurred_at for i in items) - START
    items.append(item(501, newest_day.days, "Quote approved today."))
    second = TreeBuilder(engine, stored_from(first), client="Alpha").build(items)
    assert engine.map_calls == 1
    changed = [n for n in second.nodes if n.changed]
    assert {n.level for n in changed} <= {"chunk", "day", "week", "month", "year", "root"}
    assert len(changed) <= 6
    assert engine.usage.prompt_tokens <= 0.05 * full_tokens


def test_unchanged_history_recomputes_nothing():
    engine = FakeEngine()
    first = TreeBuilder(engine, {}, client="Alpha").build(history(100))
    engine.map_calls = engine.reduce_calls = 0
    again = TreeBuilder(engine, stored_from(first), client="Alpha").build(history(100))
    assert engine.map_calls == engine.reduce_calls == 0
    assert not any(n.changed for n in again.nodes)
    assert again.root.input_hash == first.root.input_hash


def test_long_message_is_split_not_truncated():
    engine = FakeEngine(context_tokens=60)
    text = " ".join(f"Sentence number {n} about the delivery." for n in range(40))
    chunks = chunk_items([item(1, 0, text)], engine, client="Alpha")
    assert len(chunks) > 1
    rejoined = " ".join(part.text for chunk in chunks for part in chunk)
    for n in range(40):
        assert f"Sentence number {n} about" in rejoined


def test_a_passage_that_cannot_fit_names_the_client():
    engine = FakeEngine(context_tokens=30)
    with pytest.raises(SummarizeError, match="Alpha Group"):
        chunk_items([item(1, 0, "x" * 2000)], engine, client="Alpha Group")


def test_empty_history_gives_empty_tree():
    assert TreeBuilder(FakeEngine(), {}, client="Alpha").build([]).root is None
