"""The summary tree: time buckets (day -> week -> month -> year -> root) over token-sized chunks, and for an
engine that writes (``Engine.writes``) one prose node over the root: the root's notes with the brief the
engine wrote from them (``Notes.brief``; empty at every other node).

Each node is keyed by a hash of its inputs and the engine version. Rebuilding recomputes only nodes
whose hash changed, so a new message costs its chunk, its day and that day's ancestors. Every node an
engine computes passes the grounding check before it is kept, so no level holds a claim its sources do
not support: digests and reports may read any node.

Messages that tried to steer the summary (``SourceItem.steering``, the instruction already cut out)
get one risk each here, whatever the engine: engines never see these risks, every node carries the
latest of them, and no claim an engine writes in steering language is kept.

Readers' corrections (``summarizer.corrections``) are applied the same way, whatever the engine: no engine reads
them, every node loses the claims they supersede, and the root carries them.
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial

from storage.periods import month_start, next_month_start, week_start, year_start
from summarizer.corrections import apply_corrections
from summarizer.engines.base import Engine
from summarizer.grounding import check_grounding, source_texts
from summarizer.merge import merge
from summarizer.notes import (
    STEERING_TOPIC,
    Citation,
    Claim,
    ClaimKind,
    Correction,
    Notes,
    SourceItem,
    is_steering_risk,
)
from summarizer.render import load_labels
from summarizer.sources import format_source, split_item
from summarizer.steering import is_steering

LEVELS = ("chunk", "day", "week", "month", "year", "root", "prose")
ROOT_BUCKET = datetime(1970, 1, 1, tzinfo=UTC)
MAX_STEERING_RISKS = 5  # per node: the latest messages that tried to steer the summary
STEERING_WEIGHT = 0.6  # ranks below complaints (0.7) and competitors (0.8)


class SummarizeError(Exception):
    """A client's history cannot be summarized as configured (e.g. an item that cannot fit)."""


def bucket_start(level: str, moment: datetime) -> datetime:
    """Start (UTC) of the ``level`` bucket holding ``moment``."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if level in ("chunk", "day"):
        return day
    if level == "week":
        return week_start(day)
    if level == "month":
        return month_start(day)
    if level == "year":
        return year_start(day)
    return ROOT_BUCKET


def bucket_end(level: str, start: datetime) -> datetime:
    """End (exclusive) of the bucket that starts at ``start``."""
    if level in ("chunk", "day"):
        return start + timedelta(days=1)
    if level == "week":
        return start + timedelta(days=7)
    if level == "month":
        return next_month_start(start)
    if level == "year":
        return start.replace(year=start.year + 1)
    return datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class Node:
    """A node of the tree as built in memory."""

    level: str
    start: datetime
    chunk: int
    input_hash: str
    notes: Notes
    changed: bool  # new or different inputs: must be stored
    recomputed: bool  # changed and an engine call was needed (a single child's notes are reused)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ungrounded: int = 0  # claims and sentences the grounding check dropped from what the engine wrote


@dataclass(slots=True)
class StoredNode:
    """What the builder needs of a node stored by an earlier build."""

    input_hash: str
    notes: Notes


@dataclass(slots=True)
class Tree:
    """The result of a build: every node, in bottom-up order, the root last."""

    nodes: list[Node] = field(default_factory=list)

    @property
    def root(self) -> Node | None:
        """The node everything renders from: the prose node when the engine writes, else the root."""
        return self.nodes[-1] if self.nodes and self.nodes[-1].level in ("root", "prose") else None

    @property
    def recomputed(self) -> int:
        return sum(node.recomputed for node in self.nodes)

    @property
    def ungrounded(self) -> int:
        """Claims and written sentences dropped by the grounding check in this build."""
        return sum(node.ungrounded for node in self.nodes)


def digest(*parts: object) -> str:
    """A stable hash of JSON-serialisable parts."""
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


def steering_risk(item: SourceItem, text: str) -> Claim:
    """The one risk of a message that tried to steer the summary: ``text`` (a label), citing the message."""
    return Claim(
        kind=ClaimKind.RISK,
        text=text,
        date=item.occurred_at.date(),
        weight=STEERING_WEIGHT,
        topic=f"{STEERING_TOPIC}:{item.interaction_id}",
        sources=[Citation(interaction_id=item.interaction_id)],
    )


def without_steering_risks(notes: Notes) -> Notes:
    """``notes`` as an engine may read them: without the tree's steering risks."""
    return notes.model_copy(update={"claims": [claim for claim in notes.claims if not is_steering_risk(claim)]})


def guarded(notes: Notes, risks: Iterable[Claim]) -> Notes:
    """An engine's map or reduce ``notes`` as the tree keeps them: no claim that is steering language or poses
    as a steering risk, then ``risks``, one per message, the latest ``MAX_STEERING_RISKS``; no brief (only the
    prose node has one)."""
    claims = [claim for claim in notes.claims if not is_steering_risk(claim) and not is_steering(claim.text)]
    latest: dict[str | None, Claim] = {}
    for risk in sorted(risks, key=lambda claim: (claim.date or date.min, claim.sources[0].interaction_id)):
        latest[risk.topic] = risk
    kept = claims + list(latest.values())[-MAX_STEERING_RISKS:]
    return notes.model_copy(update={"claims": kept, "brief": [], "corrections": []})


def chunk_items(items: list[SourceItem], engine: Engine, *, client: str) -> list[list[SourceItem]]:
    """Pack one bucket's items, in order, into chunks that fit the engine's context.

    An item larger than a chunk is split into parts; a part that still cannot fit raises
    ``SummarizeError`` naming the client. Nothing is truncated.
    """
    budget = engine.context_tokens
    chunks: list[list[SourceItem]] = [[]]
    used = 0
    for item in items:
        for part in split_item(item, budget, engine.count_tokens):
            cost = engine.count_tokens(format_source(part))
            if cost > budget:
                raise SummarizeError(
                    f"client {client}: interaction {item.interaction_id} has a passage of "
                    f"{cost} tokens, more than the engine's {budget}-token context"
                )
            if used + cost > budget and chunks[-1]:
                chunks.append([])
                used = 0
            chunks[-1].append(part)
            used += cost
    return [chunk for chunk in chunks if chunk]


class TreeBuilder:
    """Builds one client's tree with ``engine``, reusing ``stored`` nodes whose inputs are unchanged."""

    def __init__(self, engine: Engine, stored: dict[tuple[str, datetime, int], StoredNode], *, client: str):
        self.engine = engine
        self.stored = stored
        self.client = client
        self.tree = Tree()
        self.sources: dict[int, str] = {}
        self.corrections: tuple[Correction, ...] = ()

    def build(self, items: list[SourceItem], corrections: Sequence[Correction] = ()) -> Tree:
        """Build (or update) the tree over ``items``; an empty history gives an empty tree.

        ``corrections`` (readers', never read by the engine) supersede the claims they correct at every node, and
        the root carries them: a changed set of corrections recomputes the root, not the nodes below it.
        """
        if not items:
            return self.tree
        self.sources = source_texts(items)
        self.corrections = tuple(corrections)
        days: dict[datetime, list[SourceItem]] = {}
        for item in items:
            days.setdefault(bucket_start("day", item.occurred_at), []).append(item)
        level_nodes = []
        for day, day_items in sorted(days.items()):
            chunk_nodes = [
                self._map_node(day, index, chunk)
                for index, chunk in enumerate(chunk_items(day_items, self.engine, client=self.client))
            ]
            level_nodes.append(self._reduce_node("day", day, chunk_nodes))
        for level in ("week", "month", "year", "root"):
            groups: dict[datetime, list[Node]] = {}
            for node in level_nodes:
                groups.setdefault(bucket_start(level, node.start), []).append(node)
            level_nodes = [self._reduce_node(level, start, children) for start, children in sorted(groups.items())]
        if self.engine.writes:
            self._prose_node(level_nodes[0])
        return self.tree

    def _prose_node(self, root: Node) -> Node:
        """The root's notes with the brief the engine writes from them; rewritten only when the root changed."""
        input_hash = digest(self.engine.version, "prose", root.input_hash, self.client)
        return self._node("prose", ROOT_BUCKET, 0, input_hash, partial(self._write, root.notes))

    def _write(self, root: Notes) -> Notes:
        """``root`` with the engine's brief, written from the notes without the tree's steering risks."""
        return root.model_copy(update={"brief": self.engine.write(without_steering_risks(root), client=self.client)})

    def _map_node(self, day: datetime, index: int, chunk: list[SourceItem]) -> Node:
        input_hash = digest(self.engine.version, "chunk", [item.model_dump(mode="json") for item in chunk])
        return self._node("chunk", day, index, input_hash, lambda: self._map(chunk))

    def _map(self, chunk: list[SourceItem]) -> Notes:
        """The engine's notes of ``chunk``, guarded, with a risk for each item that tried to steer the summary."""
        steering = [item for item in chunk if item.steering]
        label = load_labels(self.engine.language)["text"]["steering"] if steering else ""
        return guarded(self.engine.map(chunk), [steering_risk(item, label) for item in steering])

    def _reduce(self, children: list[Notes], level: str) -> Notes:
        """The engine's merge of ``children`` without their steering risks, guarded, with those risks."""
        risks = [claim for child in children for claim in child.claims if is_steering_risk(claim)]
        return guarded(self.engine.reduce([without_steering_risks(child) for child in children], level=level), risks)

    def _reduce_node(self, level: str, start: datetime, children: list[Node]) -> Node:
        """The parent of ``children`` as a left fold in time order: ((c1 + c2) + c3) + ...

        Each prefix is a stored node (chunk = its length - 1; the whole fold is chunk 0), so new data
        in the latest child costs one two-input reduce per level instead of re-reading every sibling,
        and later facts are merged onto earlier ones, as supersession wants.
        """
        marks = self._corrections_digest() if level == "root" else ()
        if len(children) == 1:
            only = children[0]
            input_hash = digest(self.engine.version, level, only.input_hash, *marks)
            return self._node(level, start, 0, input_hash, lambda: only.notes, free=True)
        folded = children[0]
        for position, child in enumerate(children[1:], start=2):
            chunk_marks = marks if position == len(children) else ()
            input_hash = digest(self.engine.version, level, folded.input_hash, child.input_hash, *chunk_marks)
            chunk = 0 if position == len(children) else position - 1
            folded = self._node(
                level, start, chunk, input_hash, partial(self._collapse, [folded.notes, child.notes], level)
            )
        return folded

    def _corrections_digest(self) -> tuple[str, ...]:
        """What the root's hash adds for the corrections: nothing without any (earlier trees keep their hashes)."""
        return (digest([fix.model_dump(mode="json") for fix in self.corrections]),) if self.corrections else ()

    def _collapse(self, notes: list[Notes], level: str) -> Notes:
        """Reduce children in groups that fit what one reduce reads (``Engine.reduce_tokens``), level after level,
        until one is left; children too large to be read even two at a time are merged deterministically, fitted
        to a third of it (as the engines fit their own notes), so a history never fails for its size."""
        while len(notes) > 1:
            groups = _pack(notes, self.engine.reduce_tokens, lambda n: self.engine.count_tokens(n.model_dump_json()))
            if len(groups) == 1:
                return self._reduce(groups[0], level)
            if all(len(group) == 1 for group in groups):
                risks = [claim for child in notes for claim in child.claims if is_steering_risk(claim)]
                fitted = merge([without_steering_risks(child) for child in notes], self.engine.reduce_tokens // 3)
                return guarded(fitted, risks)
            notes = [group[0] if len(group) == 1 else self._reduce(group, level) for group in groups]
        return notes[0]

    def _node(
        self,
        level: str,
        start: datetime,
        chunk: int,
        input_hash: str,
        compute: Callable[[], Notes],
        *,
        free: bool = False,
    ) -> Node:
        previous = self.stored.get((level, start, chunk))
        if previous is not None and previous.input_hash == input_hash:
            notes = apply_corrections(previous.notes, self.corrections, level=level)
            node = Node(level, start, chunk, input_hash, notes, changed=notes != previous.notes, recomputed=False)
        else:
            before = (self.engine.usage.prompt_tokens, self.engine.usage.completion_tokens)
            notes, dropped = compute(), 0
            if not free:  # a reused child's notes were checked when it was built
                checked = check_grounding(notes, self.sources, client=self.client)
                notes, dropped = checked.notes, checked.ungrounded
            notes = apply_corrections(notes, self.corrections, level=level)
            node = Node(
                level,
                start,
                chunk,
                input_hash,
                notes,
                changed=True,
                recomputed=not free,
                prompt_tokens=self.engine.usage.prompt_tokens - before[0],
                completion_tokens=self.engine.usage.completion_tokens - before[1],
                ungrounded=dropped,
            )
        self.tree.nodes.append(node)
        return node


def _pack(notes: Iterable[Notes], budget: int, cost: Callable[[Notes], int]) -> list[list[Notes]]:
    groups: list[list[Notes]] = [[]]
    used = 0
    for item in notes:
        size = cost(item)
        if used + size > budget and groups[-1]:
            groups.append([])
            used = 0
        groups[-1].append(item)
        used += size
    return groups
