"""The four output formats (brief, structured, timeline, actions) rendered from a root node's notes.

Each format comes as Markdown and as a JSON-ready dict built from the same lines, so both carry the
same citations: ``[#123]`` or ``[#123 @04:12]`` in Markdown, ``{"interaction_id", "at_seconds"}`` in
JSON. Labels and connecting phrases come from ``prompts/render/<language>.toml``; claim texts are
quoted as the engine wrote them, so a rendered sentence is only as grounded as its claims. Worded by the
labels instead: a message that tried to steer the summary (its risk), a CRM deal change, and a claim
written in another script than the reader's, from what it names (``summarizer.facets``: its figures and
codes as written), the source's words following it in the detailed formats and one click away in the brief.
The brief of an engine that writes (``Notes.brief``, each sentence checked against its sources) renders
those sentences after the framed overview; the other formats never read them. Readers' corrections
(``Notes.corrections``) open every format, each headed by its author's name and citing its note.
"""

import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib.resources import files
from typing import Any

from storage.vocabulary import deal_stage
from summarizer.dates import due_wording, is_relative_wording
from summarizer.extract import DEAL_EVENT
from summarizer.facets import facets
from summarizer.grounding import writing_script
from summarizer.merge import is_evidence, normalize
from summarizer.notes import Citation, Claim, ClaimKind, Notes, Sentence, Side, is_steering_risk
from summarizer.plurals import with_plurals

LABELS_DIR = files("prompts") / "render"
FORMATS = ("brief", "structured", "timeline", "actions")
SECTIONS = ("current_status", "relationship_history", "key_agreements", "risks", "next_steps", "people")
TIMELINE_KINDS = (ClaimKind.EVENT, ClaimKind.PURCHASE, ClaimKind.AGREEMENT, ClaimKind.RISK)
STATUS_ORDER = ("overdue", "open", "done")
CURRENT_FALLBACK_KINDS = (ClaimKind.EVENT, ClaimKind.AGREEMENT, ClaimKind.PURCHASE)
CURRENT_FALLBACK_ITEMS = 3  # without a status claim, the latest facts say where things stand
BRIEF_NEWS = 7  # news of distinct days next to the current status in the brief
BRIEF_AGREED = 3
BRIEF_OPEN = 3
BRIEF_TOPICS = 4
IMPLIED = {ClaimKind.AGREEMENT: ("approved",)}  # states a kind's frame already says
FACET_SUBJECTS = 2  # a claim worded from its facets names at most this many subjects
KEY_PHRASE_WORDS = 28  # a claim quoted inside a brief sentence is cut to about this many words
LEADING_HANDLES = re.compile(r"^(?:@\w+[\s,:]*)+")
SELF_INTRODUCTION = re.compile(r"^(?:i(?:'m|’m|\s+am)\s+(?:the\s+|a\s+|an\s+)?|я\s+(?:—\s*)?)", re.IGNORECASE)
CLAUSE_END = re.compile(r"[,;:—–](?=\s)")
Labels = dict[str, dict[str, str]]


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Who the summary is about."""

    id: int
    name: str
    contacts: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Rendered:
    """One format in both forms."""

    markdown: str
    content: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Line:
    """A sentence or an item: its plain text, its Markdown with citation markers, its citations."""

    text: str
    markdown: str
    citations: tuple[Citation, ...]
    fields: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, **self.fields, "citations": [c.model_dump() for c in self.citations]}


def available_languages() -> list[str]:
    """Languages that have a label file."""
    return sorted(entry.name.removesuffix(".toml") for entry in LABELS_DIR.iterdir() if entry.name.endswith(".toml"))


@cache
def load_labels(language: str) -> Labels:
    """The labels of ``language`` (a count's label a :class:`~summarizer.plurals.Plural`); ValueError names the
    available ones when there is no file."""
    path = LABELS_DIR / f"{language}.toml"
    if not path.is_file():
        raise ValueError(f"no labels for language {language!r}; available: {', '.join(available_languages())}")
    with path.open("rb") as file:
        return with_plurals(tomllib.load(file), language)


def render(format: str, notes: Notes, *, client: ClientInfo, language: str, as_of: date) -> Rendered:
    """Render ``notes`` (a root node's) as ``format`` in ``language``; an empty history says so."""
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    labels = load_labels(language)
    notes = notes.model_copy(
        update={
            "claims": [
                _localized(claim, labels, with_original=format != "brief")
                for claim in notes.claims
                if not is_evidence(claim)
            ]
        }
    )
    header = _header(labels["titles"][format], client, labels, as_of)
    content: dict[str, Any] = {
        "format": format,
        "language": language,
        "as_of": as_of.isoformat(),
        "client": {"id": client.id, "name": client.name, "contacts": client.contacts},
        "empty": _is_empty(notes),
    }
    if content["empty"]:
        content.update(_EMPTY_CONTENT[format](), corrections=[], message=labels["text"]["empty_history"])
        return Rendered(f"{header}\n\n{labels['text']['empty_history']}\n", content)
    body, parts = _RENDERERS[format](notes, client, labels, as_of)
    fixes = _correction_lines(notes, labels)
    content.update(parts, corrections=[line.as_json() for line in fixes])
    if fixes:
        body = "\n".join(f"> {line.markdown}" for line in fixes) + f"\n\n{body}"
    return Rendered(f"{header}\n\n{body}\n", content)


def _correction_lines(notes: Notes, labels: Labels) -> list[_Line]:
    """Readers' corrections, oldest first: the highest authority, so every format opens with them, each headed
    "Correction by <author>" and citing its note."""
    lines = []
    for fix in notes.corrections:
        heading = labels["text"]["correction"].format(author=fix.author)
        citations = (Citation(interaction_id=fix.interaction_id),)
        fields = {"author": fix.author, "date": fix.occurred_at.date().isoformat(), "heading": heading}
        lines.append(_Line(fix.text, f"**{heading}:** {_cited(fix.text, citations)}", citations, fields))
    return lines


# --- citations and lines -------------------------------------------------------------------------


def citation_marker(citation: Citation) -> str:
    """``[#123]``, or ``[#123 @04:12]`` for a moment in a call recording."""
    if citation.at_seconds is None:
        return f"[#{citation.interaction_id}]"
    minutes, seconds = divmod(int(citation.at_seconds), 60)
    hours, minutes = divmod(minutes, 60)
    moment = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"
    return f"[#{citation.interaction_id} @{moment}]"


def _markers(citations: Iterable[Citation]) -> str:
    return " ".join(citation_marker(citation) for citation in citations)


def _unique(citations: Iterable[Citation]) -> tuple[Citation, ...]:
    seen: dict[tuple[int, float | None], Citation] = {}
    for citation in citations:
        seen.setdefault((citation.interaction_id, citation.at_seconds), citation)
    return tuple(seen.values())


def _clause(claim: Claim) -> str:
    """A claim's text fit to sit inside a composed sentence."""
    return claim.text.strip().rstrip(".") if not claim.text.rstrip().endswith("?") else claim.text.strip()


def _cited(text: str, citations: Iterable[Citation]) -> str:
    markers = _markers(citations)
    return f"{text} {markers}" if markers else text


def _claim_line(claim: Claim, text: str | None = None, **fields: Any) -> _Line:
    """An item quoting ``claim`` (or ``text`` composed from its fields) with its citations."""
    text = text if text is not None else claim.text.strip()
    citations = _unique(claim.sources)
    return _Line(text, _cited(text, citations), citations, fields)


def _compose(template: str, parts: list[tuple[str, Claim]], **values: str) -> _Line:
    """A sentence from ``template`` whose ``{items}`` are clauses, each followed by its citations."""
    plain = "; ".join(text for text, _claim in parts)
    marked = "; ".join(_cited(text, _unique(claim.sources)) for text, claim in parts)
    citations = _unique(c for _text, claim in parts for c in claim.sources)
    return _Line(template.format(items=plain, **values), template.format(items=marked, **values), citations)


# --- claims --------------------------------------------------------------------------------------


def _localized(claim: Claim, labels: Labels, *, with_original: bool) -> Claim:
    """``claim`` in the labels' language: a steering risk (the tree words it in the engine's) and a deal change
    (the CRM importer records it in English) in the labels' frames; a claim written in another script worded
    from what it names (:func:`worded_facets`), followed by its source's words as a quote when
    ``with_original`` (the brief leaves them to the citation)."""
    if is_steering_risk(claim):
        return claim.model_copy(update={"text": labels["text"]["steering"]})
    # the CRM importer's own sentence (ingest.crm_csv.describe_deal_event), as the grounded extractor reads it
    change = DEAL_EVENT.match(claim.text.strip())
    if not change:
        worded = worded_facets(claim, labels)
        if worded is None:
            return claim
        original = labels["brief"]["quote"].format(what=key_phrase(claim.text))
        return claim.model_copy(update={"text": f"{worded} — {original}" if with_original else worded})
    amount = " ".join(filter(None, (change["amount"], change["currency"]))) if change["amount"] else None
    text = worded_deal_change(
        labels["deal"], deal=change["deal"], stage=change["stage"], amount=amount, reason=change["reason"]
    )
    return claim.model_copy(update={"text": text})


def worded_facets(claim: Claim, labels: Labels) -> str | None:
    """A claim written in another script than the labels' language, worded in the labels' ``[facets]`` frames
    from what it names ("purchase: contract, NW-300, 120 units (signed)"): its figures and codes as written, so
    it names nothing its source does not. None for a claim in the reader's script, a thread's subject (a title,
    quoted as it is), a question, or one that names too little to stand for its sentence."""
    text = claim.text.strip()
    script = writing_script(text)
    if not script or script == labels["brief"]["script"] or _is_topic(claim) or _is_question(claim):
        return None
    found = facets(text)
    # the frame says what kind of claim it is: an agreement is "agreed", so its "agreed" is no news; an action's
    # status is its own (open, done), not the words of its sentence ("send the signed contract")
    states = [] if claim.kind == ClaimKind.ACTION else [s for s in found.states if s not in IMPLIED.get(claim.kind, ())]
    named = found.subjects or states or found.roles or found.channels
    if not (named or (claim.kind == ClaimKind.PURCHASE and found.figures)):
        return None
    frames: dict[str, Any] = labels["facets"]
    subjects = [subject for subject in found.subjects if not (subject == "call" and "phone" in found.channels)]
    parts = [
        *([claim.owner] if claim.kind == ClaimKind.PERSON and claim.owner else found.names),
        *(frames["roles"][role] for role in found.roles),
        *(frames["channels"][channel] for channel in found.channels),
        *(frames["subjects"][subject] for subject in subjects[:FACET_SUBJECTS]),
        *found.codes,
        *found.amounts,
        *found.shares,
        *(frames["count"].format(count=count) for count in found.counts),
        *found.times,
    ]
    what = ", ".join(dict.fromkeys(parts))
    if states:
        stated = ", ".join(frames["states"][state] for state in states)
        what = frames["state"].format(what=what, states=stated) if what else stated
    return str(frames[claim.kind.value].format(what=what))


def worded_deal_change(
    frames: dict[str, Any], *, deal: str, stage: str, amount: str | None = None, reason: str | None = None
) -> str:
    """A deal change in the ``[deal]`` frames of the labels: "Deal X (D-1) moved to stage “won”: 1,000.00 EUR.
    Reason: …", the stage named in the labels when they know it, ``amount`` and ``reason`` as given."""
    fields = {"deal": deal, "stage": frames["stages"].get(deal_stage(stage), stage)}
    text = (frames["move_amount"].format(amount=amount, **fields) if amount else frames["move"].format(**fields)) + "."
    return f"{text} {frames['reason'].format(reason=reason.strip().rstrip('.'))}." if reason else text


def _is_empty(notes: Notes) -> bool:
    return notes.interactions == 0 and not notes.claims


def _of_kind(notes: Notes, *kinds: ClaimKind) -> list[Claim]:
    return [claim for claim in notes.claims if claim.kind in kinds]


def _by_weight(claims: list[Claim]) -> list[Claim]:
    """The weightiest claims first, the latest first among equals."""
    return sorted(claims, key=lambda claim: (-claim.weight, -(claim.date or date.min).toordinal()))


def _salient(claims: list[Claim], count: int) -> list[Claim]:
    return _by_weight(claims)[:count]


def _chronological(claims: list[Claim]) -> list[Claim]:
    """Oldest first; a first contact that only repeats a thread's subject goes (the thread cites more)."""
    threads = {normalize(claim.text) for claim in claims if (claim.topic or "").startswith("thread:")}
    claims = [
        claim for claim in claims if not ((claim.topic or "").startswith("first:") and normalize(claim.text) in threads)
    ]
    return sorted(claims, key=lambda claim: (claim.date or date.min, claim.sources[0].interaction_id))


def action_status(claim: Claim, as_of: date) -> str:
    """``done``, ``overdue`` (due before ``as_of`` and not done) or ``open``."""
    if claim.done:
        return "done"
    return "overdue" if claim.due is not None and claim.due < as_of else "open"


def _by_due(actions: list[Claim], as_of: date) -> list[Claim]:
    """Overdue first, then open, then done; within each the nearest due date first, undated last."""
    return sorted(
        actions,
        key=lambda claim: (
            STATUS_ORDER.index(action_status(claim, as_of)),
            claim.due is None,
            claim.due or date.max,
            -claim.weight,
        ),
    )


def _who(claim: Claim, labels: Labels) -> str:
    """The owner by name, else the side that acts; a named owner gets no side label, since the side is
    inferred from the message's direction, which is a guess where our own domains are not configured."""
    if claim.owner:
        return claim.owner
    return labels["sides"][claim.owner_side] if claim.owner_side else labels["actions"]["unassigned"]


def _due(claim: Claim, labels: Labels, as_of: date) -> str:
    if claim.due is None:
        return labels["actions"]["no_due"]
    key = "overdue_since" if action_status(claim, as_of) == "overdue" else "due_on"
    return labels["actions"][key].format(date=due_text(claim, labels))


def due_text(claim: Claim, labels: Labels) -> str:
    """How a due date is shown: in the claim's own words ("24 April"), so that a summary names only dates its
    sources hold; words relative to when they were written ("tomorrow", "Friday") with that date; the resolved
    ISO date when the text names none (the JSON has it always)."""
    if claim.due is None:
        return ""
    found = due_wording(claim.text)
    if found is None:
        return claim.due.isoformat()
    wording = _as_quote_if_foreign(found, labels["brief"])
    if claim.date is not None and is_relative_wording(found):
        return labels["actions"]["said_on"].format(due=wording, date=claim.date.isoformat())
    return wording


def _action_fields(claim: Claim, as_of: date) -> dict[str, Any]:
    return {
        "owner": claim.owner,
        "side": claim.owner_side.value if claim.owner_side else None,
        "due": claim.due.isoformat() if claim.due else None,
        "status": action_status(claim, as_of),
    }


# --- shared pieces -------------------------------------------------------------------------------


def _header(title: str, client: ClientInfo, labels: Labels, as_of: date) -> str:
    meta = [labels["text"]["as_of"].format(date=as_of.isoformat())]
    if client.contacts:
        meta.append(labels["text"]["contacts"].format(contacts=", ".join(client.contacts)))
    return f"## {title}: {client.name}\n*{' · '.join(meta)}*"


def _overview(notes: Notes, client: ClientInfo, labels: Labels) -> _Line:
    """Who the client is: since when, how much and by which channels; cites the first and last claims."""
    unknown = labels["text"]["unknown_date"]
    channels = ", ".join(
        labels["channels"].get(name, name) for name, _count in sorted(notes.channels.items(), key=lambda item: -item[1])
    )
    text = labels["text"]["overview"].format(
        name=client.name,
        count=notes.interactions,
        channels=channels or labels["text"]["no_channels"],
        since=notes.first_at.date().isoformat() if notes.first_at else unknown,
        last=notes.last_at.date().isoformat() if notes.last_at else unknown,
    )
    dated = _chronological(notes.claims)
    citations = _unique(c for claim in dated[:1] + dated[-1:] for c in claim.sources[:1])
    return _Line(text, _cited(text, citations), citations)


def _bullets(lines: list[_Line], labels: Labels) -> str:
    if not lines:
        return f"_{labels['text']['nothing_recorded']}_"
    return "\n".join(f"- {markdown}" for markdown in dict.fromkeys(line.markdown for line in lines))


def _dated_line(claim: Claim, **fields: Any) -> _Line:
    """An item prefixed with its claim's date in Markdown, the date as a field in JSON."""
    line = _claim_line(claim, date=claim.date.isoformat() if claim.date else None, **fields)
    if claim.date is None:
        return line
    return _Line(line.text, f"**{claim.date.isoformat()}** — {line.markdown}", line.citations, line.fields)


# --- brief ---------------------------------------------------------------------------------------


def _brief_sentence(labels: Labels, key: str, parts: list[tuple[str, Claim]]) -> _Line:
    if parts:
        return _compose(labels["brief"][key], parts)
    text = labels["brief"][f"{key}_unknown"]
    return _Line(text, text, ())


def current_claims(notes: Notes) -> list[Claim]:
    """Where things stand, latest first: the status claims, or without any, the latest dated facts (events,
    agreements, purchases) that are not thread topics or the first contact."""
    statuses = sorted(_of_kind(notes, ClaimKind.STATUS), key=lambda claim: claim.date or date.min, reverse=True)
    if statuses:
        return statuses
    facts = [claim for claim in _of_kind(notes, *CURRENT_FALLBACK_KINDS) if claim.date and not _is_topic(claim)]
    return sorted(facts, key=lambda claim: (claim.date, claim.weight), reverse=True)[:CURRENT_FALLBACK_ITEMS]


def _is_topic(claim: Claim) -> bool:
    """A thread's subject or the first contact: history, not news."""
    return (claim.topic or "").startswith(("first:", "thread:"))


def _person_text(claim: Claim) -> str:
    """A person claim with the person's name in front when its text does not name them; a self-introduction
    ("I am the CFO at Alfa Group") as the person with their role ("Dmitry Orlov, CFO at Alfa Group")."""
    text = claim.text.strip()
    if claim.kind != ClaimKind.PERSON or not claim.owner or claim.owner.casefold() in text.casefold():
        return text
    introduction = SELF_INTRODUCTION.match(text)
    if introduction and len(text) > introduction.end():
        return f"{claim.owner}, {text[introduction.end() :]}"
    return f"{claim.owner}: {text}"


def _render_brief(notes: Notes, client: ClientInfo, labels: Labels, as_of: date) -> tuple[str, dict[str, Any]]:
    """The brief a model wrote (``notes.brief``) after the framed overview, else the brief in the labels' frames.

    The written brief is kept only when it cites more sources than the framed one: a model that wrote about
    no more of the history than the frames hold says less than they do (it leaves out their dates, amounts
    and owners), however fluent it reads."""
    framed = _framed_brief(notes, client, labels, as_of)
    written = [_written_line(sentence) for sentence in notes.brief]
    if written and _cited_sources(written) > _cited_sources(framed[1:]):
        sentences = [_overview(notes, client, labels), *written]
        written_by = "model"
    else:
        sentences = framed
        written_by = "frames"
    content = {"sentences": [line.as_json() for line in sentences], "written_by": written_by}
    return " ".join(line.markdown for line in sentences), content


def _cited_sources(lines: list[_Line]) -> int:
    """How many distinct sources (a message, or a moment of a call) the lines cite."""
    return len(_unique(citation for line in lines for citation in line.citations))


def _written_line(sentence: Sentence) -> _Line:
    """A sentence a model wrote, followed by its citations."""
    text = sentence.text.strip()
    citations = _unique(sentence.sources)
    return _Line(text, _cited(text, citations), citations)


def _framed_brief(notes: Notes, client: ClientInfo, labels: Labels, as_of: date) -> list[_Line]:
    """Five sentences built from the claims' fields in the labels' frames: who the client is; where things
    stand (the latest status, then the weightiest news of distinct days, and the top risk); what was agreed,
    bought or done; what is open (who, due); whom to talk to (the client's people, not ours) and how. Each item
    keeps its claim's key phrase and cites it. A sentence said once is shown once: what is open, then what was
    settled, the risk and the people come before the news, which leaves out what they already say."""
    open_actions = [claim for claim in _by_due(_of_kind(notes, ClaimKind.ACTION), as_of) if not claim.done]
    tasks = [claim for claim in open_actions if not _is_question(claim)][:BRIEF_OPEN]
    frames = labels["brief"]
    shown = _Shown(tasks)
    settled = shown.add(
        _salient(shown.new(_of_kind(notes, ClaimKind.AGREEMENT, ClaimKind.PURCHASE) + _done(notes)), BRIEF_AGREED)
    )
    risks = shown.add(
        _salient(shown.new([claim for claim in _of_kind(notes, ClaimKind.RISK) if not is_steering_risk(claim)]), 1)
    )
    clients_people = [claim for claim in _of_kind(notes, ClaimKind.PERSON) if claim.owner_side != Side.US]
    people = shown.add(
        _salient(shown.new(clients_people), 2) + _salient(shown.new(_of_kind(notes, ClaimKind.PREFERENCE)), 1)
    )
    status = _brief_news(notes, shown) + risks
    return [
        _with_topics(_overview(notes, client, labels), _threads(notes), frames),
        _brief_sentence(labels, "status", [(_news_item(c, frames, risk=c in risks), c) for c in status]),
        _brief_sentence(labels, "agreed" if settled else "buys", [(_settled_item(c, frames), c) for c in settled]),
        _brief_sentence(
            labels,
            "next",
            [
                (
                    frames["action"].format(
                        what=_phrase(c.text, frames), who=_who(c, labels), due=_due(c, labels, as_of)
                    ),
                    c,
                )
                for c in tasks
            ],
        ),
        _brief_sentence(labels, "contact", [(_phrase(_person_text(c), frames), c) for c in people]),
    ]


def _threads(notes: Notes) -> list[Claim]:
    """What the history is about: the thread subjects that most messages carry, at most ``BRIEF_TOPICS``."""
    threads = [claim for claim in _of_kind(notes, ClaimKind.EVENT) if (claim.topic or "").startswith("thread:")]
    return sorted(threads, key=lambda claim: (-len(claim.sources), claim.date or date.min))[:BRIEF_TOPICS]


def _with_topics(overview: _Line, threads: list[Claim], frames: dict[str, str]) -> _Line:
    """The overview sentence followed by the subjects of its main threads, each cited."""
    if not threads:
        return overview
    topics = _compose(frames["topics"], [(_phrase(claim.text, frames), claim) for claim in threads])
    return _Line(
        f"{overview.text} {topics.text}",
        f"{overview.markdown} {topics.markdown}",
        _unique([*overview.citations, *topics.citations]),
    )


def _is_question(claim: Claim) -> bool:
    return claim.text.rstrip().endswith("?")


class _Shown:
    """The sentences a brief has shown so far, by their normalized text."""

    def __init__(self, claims: list[Claim]):
        self._texts = {normalize(claim.text) for claim in claims}

    def new(self, claims: list[Claim]) -> list[Claim]:
        """Those of ``claims`` whose sentence was not shown yet."""
        return [claim for claim in claims if normalize(claim.text) not in self._texts]

    def add(self, claims: list[Claim]) -> list[Claim]:
        """``claims``, now counted as shown."""
        self._texts.update(normalize(claim.text) for claim in claims)
        return claims


def _brief_news(notes: Notes, shown: _Shown) -> list[Claim]:
    """Where things stand: the latest status (an earlier one is history), then the weightiest events (not
    thread topics, not already ``shown``) of distinct days first, so that a history of many episodes shows each
    of them, then the next weightiest up to ``BRIEF_NEWS``; newest first."""
    latest = shown.new(current_claims(notes))[:1]
    candidates = _by_weight(
        [claim for claim in shown.new(_of_kind(notes, ClaimKind.EVENT)) if not _is_topic(claim) and claim not in latest]
    )
    days = {claim.date for claim in latest}
    picked: list[Claim] = []
    for claim in candidates:
        if len(picked) < BRIEF_NEWS and claim.date not in days:
            picked.append(claim)
            days.add(claim.date)
    picked += [claim for claim in candidates if claim not in picked][: BRIEF_NEWS - len(picked)]
    return latest + sorted(picked, key=lambda claim: claim.date or date.min, reverse=True)


def _dated_item(claim: Claim, frames: dict[str, str]) -> str:
    """A claim's key phrase, after its date when it has one ("2024-03-13: quote approved")."""
    phrase = _phrase(claim.text, frames)
    return frames["dated"].format(date=claim.date.isoformat(), what=phrase) if claim.date else phrase


def _settled_item(claim: Claim, frames: dict[str, str]) -> str:
    """An agreement or purchase as a dated item; a carried-out action marked done (else a request that was met
    reads as one still asked)."""
    item = _dated_item(claim, frames)
    return frames["done"].format(what=item) if claim.kind == ClaimKind.ACTION else item


def _news_item(claim: Claim, frames: dict[str, str], *, risk: bool) -> str:
    return frames["risk"].format(what=_dated_item(claim, frames)) if risk else _dated_item(claim, frames)


def _phrase(text: str, frames: dict[str, str]) -> str:
    """A claim's key phrase for a sentence of the brief, in the reader's quotation marks when it is written in
    another script than the brief (a Russian message in an English brief): the source's words, marked as theirs."""
    return _as_quote_if_foreign(key_phrase(text), frames)


def _as_quote_if_foreign(text: str, frames: dict[str, str]) -> str:
    """``text`` in the reader's quotation marks when it is written in another script than the labels' language;
    names ("Ольга Смирнова, decision-maker") do not make it foreign, so only its words that are not capitalized
    count."""
    script = writing_script(" ".join(word for word in text.split() if not word[:1].isupper()))
    return frames["quote"].format(what=text) if script and script != frames["script"] else text


def key_phrase(text: str, max_words: int = KEY_PHRASE_WORDS) -> str:
    """A claim's text fit for a sentence: leading @handles dropped, cut to ``max_words`` at the last clause
    break that keeps most of it (else between words, marked "…"), the end punctuation of a statement gone."""
    words = LEADING_HANDLES.sub("", text.strip()).split()
    if len(words) > max_words:
        head = " ".join(words[:max_words])
        breaks = [match.start() for match in CLAUSE_END.finditer(head) if match.start() >= len(head) // 2]
        return f"{head[: breaks[-1]] if breaks else head}…"
    phrase = " ".join(words)
    return phrase if phrase.endswith("?") else phrase.rstrip(".;,:")


# --- structured ----------------------------------------------------------------------------------


def _section_lines(notes: Notes, client: ClientInfo, labels: Labels, as_of: date) -> dict[str, list[_Line]]:
    actions = [claim for claim in _of_kind(notes, ClaimKind.ACTION) if not claim.done]
    return {
        "current_status": [_dated_line(c) for c in current_claims(notes)],
        "relationship_history": [_overview(notes, client, labels)]
        + [
            _dated_line(c, kind=c.kind.value)
            for c in _chronological(_of_kind(notes, ClaimKind.EVENT, ClaimKind.PURCHASE) + _done(notes))
        ],
        "key_agreements": [_dated_line(c) for c in _chronological(_of_kind(notes, ClaimKind.AGREEMENT))],
        "risks": [_dated_line(c) for c in _by_weight(_of_kind(notes, ClaimKind.RISK))],
        "next_steps": [_action_line(c, labels, as_of) for c in _by_due(actions, as_of)],
        "people": [
            _claim_line(c, _person_text(c), kind=c.kind.value)
            for c in _of_kind(notes, ClaimKind.PERSON, ClaimKind.PREFERENCE)
        ],
    }


def _action_line(claim: Claim, labels: Labels, as_of: date) -> _Line:
    """An action as an item: what, who, when, with its status spelled out in Markdown."""
    line = _claim_line(claim, **_action_fields(claim, as_of))
    status = labels["statuses"][action_status(claim, as_of)]
    suffix = f" — {_who(claim, labels)}, {_due(claim, labels, as_of)} · **{status}**"
    return _Line(line.text, f"{_clause(claim)}{suffix} {_markers(line.citations)}", line.citations, line.fields)


def _render_structured(notes: Notes, client: ClientInfo, labels: Labels, as_of: date) -> tuple[str, dict[str, Any]]:
    """Current status, relationship history, key agreements, risks, next steps, people."""
    lines = _section_lines(notes, client, labels, as_of)
    markdown = "\n\n".join(f"### {labels['sections'][key]}\n{_bullets(lines[key], labels)}" for key in SECTIONS)
    sections = [
        {"key": key, "title": labels["sections"][key], "items": [line.as_json() for line in lines[key]]}
        for key in SECTIONS
    ]
    return markdown, {"sections": sections}


# --- timeline and actions ------------------------------------------------------------------------


def _done(notes: Notes) -> list[Claim]:
    """Actions that were carried out: part of the history (a sent contract, a booked visit)."""
    return [claim for claim in _of_kind(notes, ClaimKind.ACTION) if claim.done]


def _render_timeline(notes: Notes, _client: ClientInfo, labels: Labels, _as_of: date) -> tuple[str, dict[str, Any]]:
    """Dated events, deals, agreements, incidents and carried-out actions, oldest first."""
    events = _chronological([claim for claim in _of_kind(notes, *TIMELINE_KINDS) + _done(notes) if claim.date])
    lines = [_dated_line(claim, kind=claim.kind.value) for claim in events]
    return _bullets(lines, labels), {"events": [line.as_json() for line in lines]}


def _table_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _render_actions(notes: Notes, _client: ClientInfo, labels: Labels, as_of: date) -> tuple[str, dict[str, Any]]:
    """Every action: what, who (owner and side), due date, open / overdue / done."""
    actions = _by_due(_of_kind(notes, ClaimKind.ACTION), as_of)
    lines = [_claim_line(claim, **_action_fields(claim, as_of)) for claim in actions]
    if not lines:
        return f"_{labels['text']['nothing_recorded']}_", {"actions": []}
    head = labels["actions"]
    rows = [
        f"| {head['status']} | {head['what']} | {head['who']} | {head['due']} | {head['sources']} |",
        "|---|---|---|---|---|",
    ]
    rows += [
        f"| {labels['statuses'][line.fields['status']]} | {_table_cell(line.text)} | "
        f"{_table_cell(_who(claim, labels))} | {_table_cell(due_text(claim, labels)) or '—'} | "
        f"{_markers(line.citations)} |"
        for claim, line in zip(actions, lines, strict=True)
    ]
    return "\n".join(rows), {"actions": [line.as_json() for line in lines]}


_RENDERERS: dict[str, Callable[[Notes, ClientInfo, Labels, date], tuple[str, dict[str, Any]]]] = {
    "brief": _render_brief,
    "structured": _render_structured,
    "timeline": _render_timeline,
    "actions": _render_actions,
}
_EMPTY_CONTENT: dict[str, Callable[[], dict[str, Any]]] = {
    "brief": lambda: {"sentences": [], "written_by": "frames"},
    "structured": lambda: {"sections": []},
    "timeline": lambda: {"events": []},
    "actions": lambda: {"actions": []},
}
