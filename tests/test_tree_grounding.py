"""Every node of the summary tree is grounded before it is stored, not only the root.

An engine that invents a number in its map step or in a reduce must not leave that claim in any stored
node: digests and reports read day, week and month nodes directly (``dossier.delivery.claims``).
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dossier.delivery.claims import load_tree
from dossier.engines import summarize
from storage.models import SummaryNode
from summarizer.notes import Citation, Claim, ClaimKind, Notes, SourceItem
from summarizer.tree import TreeBuilder
from tests.db import session_scope
from tests.fake_engine import FakeEngine, register
from tests.summary_history import CLIENT, import_mail

INVENTED = "The client will pay 987,654 EUR"


class InventingEngine(FakeEngine):
    """Adds an invented claim, citing a real message, to every map and every reduce it writes."""

    name = "inventing"

    def _invent(self, notes: Notes, source: int) -> Notes:
        invented = Claim(kind=ClaimKind.AGREEMENT, text=INVENTED, sources=[Citation(interaction_id=source)])
        return notes.model_copy(update={"claims": [*notes.claims, invented]})

    def map(self, items):
        return self._invent(super().map(items), items[0].interaction_id)

    def reduce(self, children, *, level):
        notes = super().reduce(children, level=level)
        cited = next(c.sources[0].interaction_id for child in children for c in child.claims)
        return self._invent(notes, cited)


def history(days: int) -> list[SourceItem]:
    start = datetime(2026, 9, 1, 9, tzinfo=UTC)
    return [
        SourceItem(
            interaction_id=n + 1,
            occurred_at=start + timedelta(days=9 * n),
            channel="email",
            direction="inbound",
            author="buyer@pallets.example",
            subject=f"Order {n}",
            text=f"Please ship order {n + 100} of pallets next week.",
        )
        for n in range(days)
    ]


def test_no_node_at_any_level_keeps_an_invented_claim():
    tree = TreeBuilder(InventingEngine(), {}, client="Pallets").build(history(6))
    levels = {node.level for node in tree.nodes}
    assert {"chunk", "day", "week", "month", "root"} <= levels
    assert all(INVENTED not in claim.text for node in tree.nodes for claim in node.notes.claims)
    assert tree.ungrounded >= len([node for node in tree.nodes if node.recomputed])
    # the engine's grounded claims survive at every level
    assert all(node.notes.claims for node in tree.nodes)


@pytest.fixture
def inventing_engine(monkeypatch):
    register(monkeypatch, InventingEngine)


def test_stored_nodes_and_what_digests_read_hold_no_ungrounded_claim(database_url, tmp_path, inventing_engine):
    for number in (2, 9, 20):
        client_id = import_mail(tmp_path, number, f"Please ship order {number + 100} of pallets next week.")
    report = summarize([CLIENT], engine_name="inventing", languages=["en"])
    assert not report.failed and report.results[0].ungrounded > 0
    with session_scope() as session:
        stored = session.scalars(select(SummaryNode).where(SummaryNode.client_id == client_id)).all()
        assert {node.level for node in stored} >= {"chunk", "day", "week", "month", "root"}
        assert all(INVENTED not in str(node.notes) for node in stored)
        tree = load_tree(session, client_id)
    read = [tree.root, *(node.notes for node in tree.nodes)]
    assert all(INVENTED not in claim.text for notes in read for claim in notes.claims)
    assert any("order" in claim.text for notes in read for claim in notes.claims)


class TinyContextEngine(FakeEngine):
    """A model whose context holds less than two days of notes: reduce must not fail for the history's size."""

    name = "tiny-context"

    def map(self, items):
        notes = super().map(items)
        padding = [
            claim.model_copy(update={"text": f"{claim.text} — detail {n} of the order"})
            for claim in notes.claims
            for n in range(12)
        ]
        return notes.model_copy(update={"claims": notes.claims + padding})


def test_notes_too_large_to_reduce_two_at_a_time_are_merged_not_failed():
    engine = TinyContextEngine(context_tokens=900)
    tree = TreeBuilder(engine, {}, client="Pallets").build(history(6))
    assert tree.root is not None and tree.root.notes.claims
    assert engine.count_tokens(tree.root.notes.model_dump_json()) <= engine.context_tokens
