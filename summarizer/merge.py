"""Deterministic reduce shared by every engine: union, de-duplicate, supersede, rank and cap claims.

Children arrive in time order (the tree's buckets are chronological), so "later" means a later date,
then a later child, then a later place in that child. Rules, in order:

- duplicates (same kind and topic, same text up to case, punctuation and spacing) become one claim
  citing every source (the latest keeps its fields; an event keeps its first date);
- per topic only the current fact survives: the latest claim, the earliest for ``first:`` topics;
  an ``action:`` topic keeps its latest promise, marked done when a done claim follows it;
- an open action about a concept is done when a later fulfilment (``fulfils:`` evidence: a won deal, a signed
  contract, a resolved incident for the remedies promised in the days before it) names that concept, whichever
  side owed it (a price given by one side: the quote that side owed in the weeks before), or a later message
  settles its subject;
- client replies feed one cooling-tone risk: dry replies after the last warm one, cited;
- per kind the most salient claims are kept (kind cap), and, given a token budget, the least salient
  go until the claims fit it; evidence, high-weight risks and first contact are never dropped.

Claims with a negative weight are evidence carried between levels (see ``is_evidence``), not for
display.
"""

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from summarizer.lexicon.grounded import RESOLUTION_FULFILS, SUBJECT_STOPWORDS
from summarizer.lexicon.grounded import SETTLED as SETTLED_WORDS
from summarizer.notes import Citation, Claim, ClaimKind, Notes, Side
from summarizer.tokens import estimate_tokens

MAX_PER_KIND = 12
MAX_PER_KIND_OVERRIDES = {ClaimKind.EVENT: 30}  # the timeline needs more room: one or two per episode
HIGH_RISK_WEIGHT = 0.95  # critical mentions (1.0); competitors and complaints rank normally
MAX_CITATIONS = 6  # the first source and the latest ones
EVIDENCE_WEIGHT = -1.0
TONE_WARM = "tone:warm"
TONE_COOLING = "tone:cooling"
FULFILS = "fulfils:"  # topic prefix of evidence that fulfils earlier actions about the concepts it lists
COOLING_MIN_DRY_REPLIES = 2
COOLING_WEIGHT = 0.85
RECENCY_DAYS = 90
COVERAGE_BONUS = 0.3
CLAIM_JSON_TOKENS = 45  # keys, kind, date, flags of a claim's JSON
CITATION_JSON_TOKENS = 12
KIND_ORDER = (
    ClaimKind.RISK,
    ClaimKind.STATUS,
    ClaimKind.ACTION,
    ClaimKind.AGREEMENT,
    ClaimKind.PURCHASE,
    ClaimKind.EVENT,
    ClaimKind.PERSON,
    ClaimKind.PREFERENCE,
)
SETTLED = re.compile("|".join(f"(?:{fragment})" for fragment in SETTLED_WORDS))
SUBJECT_WORD = re.compile(r"[^\W\d_]{5,}")
SUBJECT_STEM = 5
STOPWORDS = frozenset(SUBJECT_STOPWORDS)
SETTLING_SHARED_STEMS = 2
#: A remedy (visit, replacement, refund) is fulfilled by a resolution at most this many days after it was promised:
#: an older one was promised for something else.
REMEDY_WINDOW_DAYS = 30
REMEDIES = frozenset(RESOLUTION_FULFILS)
NORMALIZE = str.maketrans("", "", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~«»„“”‘’—–…")


@dataclass(frozen=True, slots=True)
class Entry:
    """A claim and where it stands in time: (date, child, position)."""

    claim: Claim
    key: tuple[date, int, int]


def is_evidence(claim: Claim) -> bool:
    """True for claims carried between levels as evidence only; renderers leave them out."""
    return claim.weight < 0


def normalize(text: str) -> str:
    """Text compared for duplicates: case, punctuation and spacing ignored."""
    return " ".join(text.casefold().translate(NORMALIZE).split())


def union_sources(first: list[Citation], second: list[Citation]) -> list[Citation]:
    """Both lists' citations once each, in order; past ``MAX_CITATIONS`` the first and the latest."""
    seen: dict[tuple[int, float | None], Citation] = {}
    for citation in [*first, *second]:
        seen.setdefault((citation.interaction_id, citation.at_seconds), citation)
    found = list(seen.values())
    return found if len(found) <= MAX_CITATIONS else [found[0], *found[-(MAX_CITATIONS - 1) :]]


def consolidate(groups: list[list[Claim]], latest: date | None, budget_tokens: int | None = None) -> list[Claim]:
    """One list of claims from chronological ``groups`` (children's claims, or items' claims), ranked
    against the ``latest`` date and fitted to ``budget_tokens`` when given."""
    entries = [
        Entry(claim, (claim.date or date.min, group_index, position))
        for group_index, group in enumerate(groups)
        for position, claim in enumerate(group)
    ]
    tone = [entry for entry in entries if entry.claim.topic in (TONE_WARM, TONE_COOLING)]
    plain = [entry for entry in entries if entry.claim.topic not in (TONE_WARM, TONE_COOLING)]
    current = settle_by_fulfilment(resolve_topics(dedupe(plain)))
    return rank([*settle_by_later(current), *cooling(tone)], latest, budget_tokens)


def fulfils_topic(concepts: Iterable[str], side: Side | None = None) -> str:
    """The topic of evidence that fulfils earlier actions about ``concepts`` ("fulfils:contract,quote"); evidence
    of what one side did names it ("fulfils:quote@us"), so that each side's latest is kept."""
    return FULFILS + ",".join(sorted(concepts)) + (f"@{side.value}" if side else "")


def fulfilled_concepts(claim: Claim) -> frozenset[str]:
    """The concepts a ``fulfils:`` evidence claim fulfils; empty for every other claim."""
    topic = claim.topic or ""
    if not is_evidence(claim) or not topic.startswith(FULFILS):
        return frozenset()
    return frozenset(topic.removeprefix(FULFILS).split("@", 1)[0].split(","))


def action_concept(claim: Claim) -> str | None:
    """What an action is about, from its ``action:<side>:<concept>`` topic."""
    topic = claim.topic or ""
    return topic.rsplit(":", 1)[-1] if claim.kind == ClaimKind.ACTION and topic.startswith("action:") else None


def settle_by_fulfilment(entries: list[Entry]) -> list[Entry]:
    """Open actions that later ``fulfils:`` evidence names the concept of, marked done and citing it (a won
    deal fulfils the promise to send the contract, and the client's request for it; a resolved incident the
    visit promised for it a few days before)."""
    fulfilments = [entry.claim for entry in entries if fulfilled_concepts(entry.claim)]
    found = []
    for entry in entries:
        claim = entry.claim
        concept = None if claim.done or is_evidence(claim) else action_concept(claim)
        settlers = (
            other
            for other in fulfilments
            if concept in fulfilled_concepts(other)
            and _after(other, claim)
            and _by_the_owing_side(other, claim)
            and _soon_enough(other, claim, concept)
        )
        settler = next(settlers, None) if concept else None
        if settler is None:
            found.append(entry)
            continue
        update = {"done": True, "sources": union_sources(claim.sources, settler.sources[:1])}
        found.append(Entry(claim.model_copy(update=update), entry.key))
    return found


def subject_stems(text: str) -> set[str]:
    """The words that tie a message to a subject: words of five letters or more, by their first five,
    common ones left out (so "booking" and "booked" differ, but "schedule" and "scheduled" match)."""
    return {word[:SUBJECT_STEM] for word in SUBJECT_WORD.findall(text.casefold()) if word not in STOPWORDS}


def settle_by_later(entries: list[Entry]) -> list[Entry]:
    """Open actions that a later message settled, marked done and citing it: the later claim (from another
    interaction) says it was confirmed, moved, booked, done or cancelled, and shares at least
    ``SETTLING_SHARED_STEMS`` subject words with the action. An answered question becomes an event."""
    settling = [
        entry
        for entry in entries
        if not entry.claim.text.rstrip().endswith("?") and SETTLED.search(entry.claim.text.casefold())
    ]
    found = []
    for entry in entries:
        claim = entry.claim
        if claim.kind != ClaimKind.ACTION or claim.done or is_evidence(claim):
            found.append(entry)
            continue
        stems = subject_stems(claim.text)
        settler = next(
            (
                other
                for other in settling
                if _after(other.claim, claim) and len(stems & subject_stems(other.claim.text)) >= SETTLING_SHARED_STEMS
            ),
            None,
        )
        if settler is None:
            found.append(entry)
            continue
        sources = union_sources(claim.sources, settler.claim.sources[:1])
        answered = claim.text.rstrip().endswith("?")  # an answered question is history, not a task
        update: dict[str, object] = (
            {"kind": ClaimKind.EVENT, "owner": None, "owner_side": None} if answered else {"done": True}
        )
        found.append(Entry(claim.model_copy(update={**update, "sources": sources}), entry.key))
    return found


def _by_the_owing_side(fulfilment: Claim, action: Claim) -> bool:
    """Whether ``fulfilment`` may settle ``action``: one that says nothing of a side (a won deal, a resolved
    incident) settles either side's action; one that a side did (a price given) only an action that side owed."""
    return fulfilment.owner_side is None or fulfilment.owner_side == action.owner_side


def _soon_enough(fulfilment: Claim, action: Claim, concept: str) -> bool:
    """Whether ``fulfilment`` (said after ``action``) is close enough to fulfil it: any time, but a remedy, or
    anything one side did (a price given answers the request for a quote of the last weeks, not of last year),
    only within ``REMEDY_WINDOW_DAYS``."""
    if concept not in REMEDIES and fulfilment.owner_side is None:
        return True
    return (
        fulfilment.date is not None
        and action.date is not None
        and ((fulfilment.date - action.date).days <= REMEDY_WINDOW_DAYS)
    )


def _after(later: Claim, earlier: Claim) -> bool:
    """Whether ``later`` was said after ``earlier``: on a later day, or the same day in a later interaction
    (interaction ids grow as a history is imported); never in one of the interactions ``earlier`` cites."""
    cited = {citation.interaction_id for citation in earlier.sources}
    ids = {citation.interaction_id for citation in later.sources}
    if ids & cited or later.date is None or earlier.date is None or later.date < earlier.date:
        return False
    return later.date > earlier.date or min(ids) > max(cited)


def dedupe(entries: list[Entry]) -> list[Entry]:
    """Exact and near duplicates merged: one claim per (kind, topic, normalized text)."""
    merged: dict[tuple[str, str | None, str], Entry] = {}
    for entry in sorted(entries, key=lambda entry: entry.key):
        claim = entry.claim
        key = (claim.kind, claim.topic, normalize(claim.text))
        merged[key] = entry if key not in merged else _combine(merged[key], entry)
    return list(merged.values())


def _combine(earlier: Entry, later: Entry) -> Entry:
    keep = earlier if earlier.claim.kind == ClaimKind.EVENT else later
    claim = keep.claim.model_copy(
        update={
            "sources": union_sources(earlier.claim.sources, later.claim.sources),
            "weight": max(earlier.claim.weight, later.claim.weight),
            "done": earlier.claim.done or later.claim.done,
        }
    )
    return Entry(claim, keep.key)


def resolve_topics(entries: list[Entry]) -> list[Entry]:
    """Supersession: one claim per topic; claims without a topic pass through."""
    by_topic: dict[str, list[Entry]] = {}
    found = []
    for entry in entries:
        if entry.claim.topic is None:
            found.append(entry)
        else:
            by_topic.setdefault(entry.claim.topic, []).append(entry)
    for topic, group in by_topic.items():
        group.sort(key=lambda entry: entry.key)
        if topic.startswith("action:"):
            found.append(settle_actions(group))
        elif topic.startswith(("thread:", "person:")):
            found.append(_with_all_sources(_representative(topic, group), group))
        else:
            found.append(group[0] if topic.startswith("first:") else group[-1])
    return found


def _representative(topic: str, group: list[Entry]) -> Entry:
    """A thread is told by its first message; a person by the latest claim that says more than the name."""
    if topic.startswith("thread:"):
        return group[0]
    return max(group, key=lambda entry: (entry.claim.text.strip() != (entry.claim.owner or "").strip(), entry.key))


def _with_all_sources(keep: Entry, group: list[Entry]) -> Entry:
    """``keep`` citing every claim of its topic, as weighty as the weightiest of them."""
    sources: list[Citation] = []
    for entry in group:
        sources = union_sources(sources, entry.claim.sources)
    weight = max(entry.claim.weight for entry in group)
    return Entry(keep.claim.model_copy(update={"sources": sources, "weight": weight}), keep.key)


def settle_actions(group: list[Entry]) -> Entry:
    """The current action of one topic: the latest promise, done if a done claim came after it.

    A done claim after an open promise closes it (and is cited by it); after a closed one the weightier
    of the two stays (a kept promise outweighs a bare "sent"), the later one on a tie.
    """
    current = group[0]
    for entry in group[1:]:
        if not entry.claim.done:
            current = entry
            continue
        if current.claim.done:
            current = entry if entry.claim.weight >= current.claim.weight else current
            continue
        update = {"done": True, "sources": union_sources(current.claim.sources, entry.claim.sources)}
        current = Entry(current.claim.model_copy(update=update), entry.key)
    return current


def cooling(entries: list[Entry]) -> list[Entry]:
    """The latest warm reply (evidence) and the dry replies since, as one cooling-tone risk.

    A child's own dry replies already follow its own warm reply, so a dry claim counts when its
    child is not earlier than the child of the latest warm reply.
    """
    warm = max((entry for entry in entries if entry.claim.topic == TONE_WARM), key=lambda e: e.key, default=None)
    dry = sorted(
        (
            entry
            for entry in entries
            if entry.claim.topic == TONE_COOLING and (warm is None or entry.key[1] >= warm.key[1])
        ),
        key=lambda entry: entry.key,
    )
    found = [warm] if warm else []
    if not dry:
        return found
    sources: list[Citation] = []
    for entry in dry:
        sources = union_sources(sources, entry.claim.sources)
    confirmed = warm is not None and len(sources) >= COOLING_MIN_DRY_REPLIES
    weight = COOLING_WEIGHT if confirmed else EVIDENCE_WEIGHT
    return [*found, Entry(dry[-1].claim.model_copy(update={"sources": sources, "weight": weight}), dry[-1].key)]


def salience(claim: Claim, latest: date | None) -> float:
    """Weight, plus recency, corroboration and openness (an open action outranks a done one)."""
    age = (latest - claim.date).days if latest and claim.date else RECENCY_DAYS * 10
    recency = 1.0 / (1.0 + max(age, 0) / RECENCY_DAYS)
    corroboration = 0.05 * math.log2(1 + len(claim.sources))
    is_open = 0.2 if claim.kind == ClaimKind.ACTION and not claim.done else 0.0
    return claim.weight + 0.3 * recency + corroboration + is_open


def is_protected(claim: Claim) -> bool:
    """Claims no cap or budget drops: evidence, rare critical risks, and the one ``first:`` claim each."""
    return (
        is_evidence(claim)
        or (claim.kind == ClaimKind.RISK and claim.weight >= HIGH_RISK_WEIGHT)
        or (claim.topic or "").startswith("first:")
    )


def claim_tokens(claim: Claim) -> int:
    """A cheap, generous estimate of the tokens a claim costs in the notes' JSON."""
    return (
        estimate_tokens(claim.text)
        + estimate_tokens(claim.owner or "")
        + len(claim.topic or "") // 2
        + CLAIM_JSON_TOKENS
        + CITATION_JSON_TOKENS * len(claim.sources)
    )


def rank(entries: Iterable[Entry], latest: date | None, budget_tokens: int | None = None) -> list[Claim]:
    """Claims by kind, most salient first, each kind capped, then the least salient dropped until the
    claims fit ``budget_tokens``; protected claims (``is_protected``) are always kept."""
    by_kind: dict[ClaimKind, list[tuple[float, Claim]]] = {}
    for score, claim in with_coverage([(salience(entry.claim, latest), entry.claim) for entry in entries]):
        by_kind.setdefault(claim.kind, []).append((score, claim))
    protected: list[tuple[float, Claim]] = []
    capped: list[list[tuple[float, Claim]]] = []
    for kind in sorted(by_kind, key=_kind_position):
        ranked = sorted(by_kind[kind], key=_rank_key)
        protected += [pair for pair in ranked if is_protected(pair[1])]
        cap = MAX_PER_KIND_OVERRIDES.get(kind, MAX_PER_KIND)
        capped.append([pair for pair in ranked if not is_protected(pair[1])][:cap])
    rest = _fit(capped, budget_tokens) if budget_tokens is not None else [pair for group in capped for pair in group]
    kept = protected + rest
    return [claim for _, claim in sorted(kept, key=lambda pair: (_kind_position(pair[1].kind), *_rank_key(pair)))]


def with_coverage(pairs: list[tuple[float, Claim]]) -> list[tuple[float, Claim]]:
    """Salience plus a bonus for each claim that cites an interaction no more salient claim cites, so that
    every episode of a history keeps a voice rather than one busy thread taking all the room."""
    covered: set[int] = set()
    scored = []
    for score, claim in sorted(pairs, key=_rank_key):
        ids = {source.interaction_id for source in claim.sources}
        scored.append((score + (COVERAGE_BONUS if ids - covered else 0.0), claim))
        covered |= ids
    return scored


def _rank_key(pair: tuple[float, Claim]) -> tuple[float, int, str]:
    score, claim = pair
    return -score, -(claim.date or date.min).toordinal(), claim.text


def _fit(by_kind: list[list[tuple[float, Claim]]], budget_tokens: int) -> list[tuple[float, Claim]]:
    """Claims taken in turns, each kind's best first, while they fit the budget: every kind keeps its
    most salient claims rather than one weighty kind taking all the room."""
    kept = []
    used = 0
    for rank_index in range(max(map(len, by_kind), default=0)):
        for ranked in by_kind:
            cost = claim_tokens(ranked[rank_index][1]) if rank_index < len(ranked) else budget_tokens + 1
            if used + cost <= budget_tokens:
                kept.append(ranked[rank_index])
                used += cost
    return kept


def _kind_position(kind: ClaimKind) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def merge_tone(children: list[Notes]) -> dict[str, float]:
    """Month tone of all children: their means weighted by how many interactions each covered."""
    totals: dict[str, tuple[float, float]] = {}
    for child in children:
        weight = max(child.interactions, 1)
        for month, tone in child.tone.items():
            total, weights = totals.get(month, (0.0, 0.0))
            totals[month] = (total + tone * weight, weights + weight)
    return {month: round(total / weights, 3) for month, (total, weights) in sorted(totals.items())}


def merge(children: list[Notes], budget_tokens: int | None = None) -> Notes:
    """The parent of chronological ``children``: claims consolidated (and fitted to ``budget_tokens``
    when given), counts and spans combined."""
    firsts = [child.first_at for child in children if child.first_at]
    lasts = [child.last_at for child in children if child.last_at]
    channels: dict[str, int] = {}
    for child in children:
        for channel, count in child.channels.items():
            channels[channel] = channels.get(channel, 0) + count
    latest = max(lasts) if lasts else None
    claims = consolidate([child.claims for child in children], latest.date() if latest else None, budget_tokens)
    return Notes(
        claims=claims,
        interactions=sum(child.interactions for child in children),
        first_at=min(firsts) if firsts else None,
        last_at=latest,
        channels=dict(sorted(channels.items())),
        tone=merge_tone(children),
        fallbacks=sum(child.fallbacks for child in children),
    )
