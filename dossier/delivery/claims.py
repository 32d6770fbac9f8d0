"""What digests and reports say about a client: claims read from its stored summary tree, selected and cited.

The summary tree (``SummaryNode`` rows) holds the current facts at its root and what happened in each
day, week and month below it. Digests and reports read it here; nothing is re-summarized, and every
item they show carries the citations of the claims it quotes.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from dossier.delivery.people import NOBODY, People
from storage import summaries
from storage.models import PUBLIC_SCOPE, Interaction, SummaryNode
from storage.periods import month_key
from summarizer.extract import stated_as
from summarizer.merge import is_evidence, normalize
from summarizer.notes import Citation, Claim, ClaimKind, Notes, Side, is_steering_risk
from summarizer.redact import redact
from summarizer.render import action_status, citation_marker

#: An open promise without a due date counts as unanswered once it is this old.
UNANSWERED_AFTER = timedelta(days=7)
#: A shown claim has at least this many words besides redaction marks; anything shorter is a fragment.
STATEMENT_WORDS = 3
#: What redaction puts in place of a card number, an account and the like: ``[card]``, ``[card expiry]``.
REDACTION_MARK = re.compile(r"\[[^\[\]]*\]")
#: A word: letters, maybe with digits, as in "LP-40" or "Care+"; a bare number or date is not one.
WORD = re.compile(r"\w*[^\W\d_]\w*")


@dataclass(frozen=True, slots=True)
class Node:
    """One stored time bucket of the tree and its notes."""

    level: str
    start: datetime
    end: datetime
    notes: Notes


@dataclass(frozen=True, slots=True)
class ClientTree:
    """A client's stored tree: the root's current facts and the buckets below it."""

    root: Notes
    nodes: list[Node] = field(default_factory=list)

    def notes_between(self, level: str, start: datetime | None, end: datetime) -> list[Notes]:
        """The notes of ``level`` buckets that start in ``[start, end)`` (from the first when ``start`` is
        None), oldest first."""
        return [
            node.notes
            for node in self.nodes
            if node.level == level and (start is None or start <= node.start) and node.start < end
        ]


def load_tree(
    session: Session, client_id: int, *, language: str = "en", scopes: tuple[str, ...] = (PUBLIC_SCOPE,)
) -> ClientTree:
    """The client's tree for ``scopes``: the one in ``language`` when the engine translates, else the newest.

    A client never summarized gets an empty tree.
    """
    root = summaries.newest_root(session, client_id, scopes, language)
    if root is None:
        return ClientTree(Notes())
    rows = session.scalars(
        select(SummaryNode)
        .where(
            SummaryNode.client_id == client_id,
            SummaryNode.scope_key == root.scope_key,
            SummaryNode.level.in_(("day", "week", "month", "year")),
        )
        .order_by(SummaryNode.bucket_start)
    )
    nodes = [Node(row.level, row.bucket_start, row.bucket_end, Notes.model_validate(row.notes)) for row in rows]
    return ClientTree(Notes.model_validate(root.notes), nodes)


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# --- selecting claims -----------------------------------------------------------------------------


def shown(notes: Iterable[Notes], *kinds: ClaimKind, start: date | None = None, end: date | None = None) -> list[Claim]:
    """Displayable claims of ``kinds`` (all kinds when none), dated in ``[start, end)`` when given.

    Evidence-only claims and fragments (see :func:`is_fragment`) are left out; a text repeated across buckets or
    kinds is kept once (its latest copy).
    """
    found: dict[str, Claim] = {}
    for note in notes:
        for claim in note.claims:
            if is_evidence(claim) or (kinds and claim.kind not in kinds) or is_fragment(claim.text):
                continue
            if (start or end) and not _dated_within(claim, start, end):
                continue
            found[normalize(claim.text)] = claim
    return list(found.values())


def is_fragment(text: str) -> bool:
    """A piece of a source rather than a statement: no word at all (``09/28``), or, once redacted, a redaction
    mark with fewer than :data:`STATEMENT_WORDS` words beside it (``[card], expiry 09/28``)."""
    redacted = redact(text)
    words = len(WORD.findall(REDACTION_MARK.sub(" ", redacted)))
    return words == 0 or (words < STATEMENT_WORDS and REDACTION_MARK.search(redacted) is not None)


def _dated_within(claim: Claim, start: date | None, end: date | None) -> bool:
    if claim.date is None:
        return False
    return (start is None or claim.date >= start) and (end is None or claim.date < end)


def chronological(claims: Iterable[Claim]) -> list[Claim]:
    """Oldest first; undated claims last."""
    return sorted(claims, key=lambda claim: (claim.date is None, claim.date or date.max))


def one_per_source(claims: Iterable[Claim]) -> list[Claim]:
    """The weightiest claim per first cited source: one line per message where several claims quote it."""
    best: dict[int, Claim] = {}
    for claim in claims:
        current = best.get(claim.sources[0].interaction_id)
        if current is None or claim.weight > current.weight:
            best[claim.sources[0].interaction_id] = claim
    return list(best.values())


def latest_first(claims: Iterable[Claim]) -> list[Claim]:
    """Newest first; undated claims last."""
    return sorted(claims, key=lambda claim: (claim.date is None, -(claim.date or date.min).toordinal()))


def open_actions(notes: Notes) -> list[Claim]:
    """Promises and tasks not done yet, nearest due date first, undated ones after, oldest first."""
    actions = [claim for claim in shown([notes], ClaimKind.ACTION) if not claim.done]
    return sorted(actions, key=lambda c: (c.due is None, c.due or date.max, c.date or date.max))


def is_overdue(claim: Claim, as_of: date) -> bool:
    """Past its due date, or, without one, promised more than :data:`UNANSWERED_AFTER` ago."""
    if action_status(claim, as_of) == "overdue":
        return True
    return claim.due is None and claim.date is not None and claim.date <= as_of - UNANSWERED_AFTER


def overdue_promises(notes: Notes, as_of: date, side: Side) -> list[Claim]:
    """Open promises of one side that are overdue or unanswered as of ``as_of``."""
    return [claim for claim in open_actions(notes) if claim.owner_side == side and is_overdue(claim, as_of)]


def upcoming(notes: Notes, as_of: date, horizon: timedelta) -> list[Claim]:
    """Open actions due from ``as_of`` to ``as_of + horizon``."""
    return [claim for claim in open_actions(notes) if claim.due and as_of <= claim.due <= as_of + horizon]


def risk_weight(notes: Notes) -> float:
    """The sum of the displayable risks' weights: how worrying the client is."""
    return sum(claim.weight for claim in shown([notes], ClaimKind.RISK))


# --- tone -------------------------------------------------------------------------------------------

#: A change of the month tone smaller than this is "steady".
TONE_STEP = 0.15


def tone_points(
    tone: dict[str, float], *, until: date | None = None, months: int | None = None
) -> list[tuple[str, float]]:
    """Month tone values (``"2026-03"``, -1..1), oldest first, up to ``until``, the last ``months`` of them."""
    points = sorted((month, value) for month, value in tone.items() if until is None or month <= month_key(until))
    return points[-months:] if months else points


def tone_direction(points: list[tuple[str, float]]) -> str | None:
    """``warming``, ``cooling`` or ``steady``: the last month against the mean of the ones before; None
    with fewer than two months."""
    if len(points) < 2:
        return None
    before = sum(value for _month, value in points[:-1]) / (len(points) - 1)
    change = points[-1][1] - before
    if abs(change) < TONE_STEP:
        return "steady"
    return "warming" if change > 0 else "cooling"


def tone_line(tone: dict[str, float], until: date, words: dict[str, Any], *, months: int | None = None) -> str:
    """``cooling (2026-08 +0.20, 2026-10 -0.30)`` over the last ``months`` up to ``until``, or why there is no trend."""
    points = tone_points(tone, until=until, months=months)
    direction = tone_direction(points)
    if direction is None:
        return words["tone"]["unknown"]
    return words["tone"]["trend"].format(
        direction=words["tone"][direction], points=", ".join(f"{month} {value:+.2f}" for month, value in points)
    )


# --- cited items ------------------------------------------------------------------------------------


class Cited(NamedTuple):
    """A citation as digests and reports show it: the interaction, the second of its recording it points at
    (a call's), and its marker, ``[#123]`` or ``[#123 @04:12]``."""

    interaction_id: int
    marker: str
    at_seconds: float | None = None

    @classmethod
    def of(cls, citation: Citation) -> "Cited":
        """``citation`` with its marker."""
        return cls(citation.interaction_id, citation_marker(citation), citation.at_seconds)


def distinct_markers(cites: Iterable[Cited]) -> tuple[Cited, ...]:
    """``cites`` with each marker once, in order of first appearance."""
    first: dict[str, Cited] = {}
    for cite in cites:
        first.setdefault(cite.marker, cite)
    return tuple(first.values())


@dataclass(frozen=True, slots=True)
class Item:
    """A statement as digests and reports show it: its text and date, and its citations."""

    text: str
    day: date | None = None
    sources: tuple[Cited, ...] = ()

    @classmethod
    def of(cls, claim: Claim, text: str | None = None) -> "Item":
        """An item quoting ``claim`` (or ``text`` composed from it) with the claim's citations, redacted (a tree
        stored by an older redaction may hold what the current one removes)."""
        sources = distinct_markers(Cited.of(source) for source in claim.sources)
        return cls(redact(text if text is not None else claim.text.strip()), claim.date, sources)

    @property
    def citations(self) -> str:
        """The citation markers, space separated."""
        return " ".join(cite.marker for cite in self.sources)


def cited_ids(items: Iterable[Item]) -> list[int]:
    """Every interaction the items cite, in order of first citation."""
    return list(dict.fromkeys(cite.interaction_id for item in items for cite in item.sources))


def activity(
    session: Session, client_id: int, start: datetime | None, end: datetime, scopes: tuple[str, ...] = (PUBLIC_SCOPE,)
) -> list[tuple[datetime, str]]:
    """(time, channel) of the client's readable, non-privileged interactions in ``[start, end)``."""
    query = select(Interaction.occurred_at, Interaction.channel).where(
        Interaction.client_id == client_id,
        Interaction.scope.in_(scopes),
        Interaction.privileged.is_(False),
        Interaction.occurred_at < end,
    )
    if start is not None:
        query = query.where(Interaction.occurred_at >= start)
    return [(at, channel) for at, channel in session.execute(query.order_by(Interaction.occurred_at))]


def quoted_item(claim: Claim, labels: dict[str, Any]) -> Item:
    """A claim as a cited item in the reader's quotation marks: the source's words, marked as a quote (a Russian
    message in an English digest stays Russian, but inside the reader's frame, one click from its source). The
    summarizer's own risk about a message that tried to steer the summary is a label, not a quote."""
    if is_steering_risk(claim):
        return Item.of(claim)
    return Item.of(claim, labels["digest"]["quote"].format(what=claim.text.strip()))


def promise_item(claim: Claim, as_of: date, labels: dict[str, Any], people: People = NOBODY) -> Item:
    """An open action as a cited sentence: who promised what, or who asked whom for what, by when or since when.

    Only a sentence that commits is worded as a promise; a request or an open question is the asker's request
    and the other side's open item; any other wording is shown as an open item of its owner. The owner is named
    when ``people`` knows them, else by their side ("we", "the client"): never by a raw speaker label.
    """
    stated = stated_as(claim.text)
    what = claim.text.strip().rstrip(".")
    if stated == "request":
        return Item.of(claim, _request_text(claim, what, as_of, labels["request"]))
    words = labels["promise"]
    who = people.named(claim.owner) or (words[claim.owner_side] if claim.owner_side else words["someone"])
    promised = stated == "promise"
    if claim.due and claim.due < as_of:
        text = words["overdue" if promised else "late"].format(who=who, what=what, due=claim.due.isoformat())
    elif claim.due:
        text = words["due"].format(who=who, what=what, due=claim.due.isoformat())
    elif claim.date:
        text = words["unanswered" if promised else "waiting"].format(who=who, what=what, date=claim.date.isoformat())
    else:
        text = words["open"].format(who=who, what=what)
    return Item.of(claim, text)


def _request_text(claim: Claim, what: str, as_of: date, words: dict[str, str]) -> str:
    """A request as the asker's (the side that does not owe it) and the owing side's open item."""
    owing = claim.owner_side
    asker = {Side.US: Side.CLIENT, Side.CLIENT: Side.US}.get(owing) if owing else None
    fields = {
        "asked": words[f"from_{asker or 'unknown'}"],
        "owes": words[f"for_{owing or 'unknown'}"],
        "what": what,
    }
    if claim.due and claim.due < as_of:
        return words["overdue"].format(due=claim.due.isoformat(), **fields)
    if claim.due:
        return words["due"].format(due=claim.due.isoformat(), **fields)
    if claim.date:
        return words["unanswered"].format(date=claim.date.isoformat(), **fields)
    return words["open"].format(**fields)
