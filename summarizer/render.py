"""The four output formats (brief, structured, timeline, actions) rendered from a root node's notes.

Each format comes as Markdown and as a JSON-ready dict built from the same lines, so both carry the
same citations: ``[#123]`` or ``[#123 @04:12]`` in Markdown, ``{"interaction_id", "at_seconds"}`` in
JSON. Labels and connecting phrases come from ``prompts/render/<language>.toml``; claim texts are
quoted as the engine wrote them, so a rendered sentence is only as grounded as its claims.
"""

import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from summarizer.merge import is_evidence
from summarizer.notes import Citation, Claim, ClaimKind, Notes

LABELS_DIR = Path(__file__).resolve().parent.parent / "prompts" / "render"
FORMATS = ("brief", "structured", "timeline", "actions")
SECTIONS = ("current_status", "relationship_history", "key_agreements", "risks", "next_steps", "people")
TIMELINE_KINDS = (ClaimKind.EVENT, ClaimKind.PURCHASE, ClaimKind.AGREEMENT, ClaimKind.RISK)
STATUS_ORDER = ("overdue", "open", "done")
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
    return sorted(path.stem for path in LABELS_DIR.glob("*.toml"))


@cache
def load_labels(language: str) -> Labels:
    """The labels of ``language``; ValueError names the available ones when there is no file."""
    path = LABELS_DIR / f"{language}.toml"
    if not path.is_file():
        raise ValueError(f"no labels for language {language!r}; available: {', '.join(available_languages())}")
    with path.open("rb") as file:
        return tomllib.load(file)


def render(format: str, notes: Notes, *, client: ClientInfo, language: str, as_of: date) -> Rendered:
    """Render ``notes`` (a root node's) as ``format`` in ``language``; an empty history says so."""
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    labels = load_labels(language)
    notes = notes.model_copy(update={"claims": [claim for claim in notes.claims if not is_evidence(claim)]})
    header = _header(labels["titles"][format], client, labels, as_of)
    content: dict[str, Any] = {"format": format, "language": language, "as_of": as_of.isoformat(),
                               "client": {"id": client.id, "name": client.name, "contacts": client.contacts},
                               "empty": _is_empty(notes)}
    if content["empty"]:
        content.update(_EMPTY_CONTENT[format](), message=labels["text"]["empty_history"])
        return Rendered(f"{header}\n\n{labels['text']['empty_history']}\n", content)
    body, parts = _RENDERERS[format](notes, client, labels, as_of)
    content.update(parts)
    return Rendered(f"{header}\n\n{body}\n", content)


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
    return sorted(claims, key=lambda claim: (claim.date or date.min, claim.sources[0].interaction_id))


def action_status(claim: Claim, as_of: date) -> str:
    """``done``, ``overdue`` (due before ``as_of`` and not done) or ``open``."""
    if claim.done:
        return "done"
    return "overdue" if claim.due is not None and claim.due < as_of else "open"


def _by_due(actions: list[Claim], as_of: date) -> list[Claim]:
    """Overdue first, then open, then done; within each the nearest due date first, undated last."""
    return sorted(actions, key=lambda claim: (STATUS_ORDER.index(action_status(claim, as_of)),
                                              claim.due is None, claim.due or date.max, -claim.weight))


def _who(claim: Claim, labels: Labels) -> str:
    side = labels["sides"][claim.owner_side] if claim.owner_side else ""
    if claim.owner and side:
        return f"{claim.owner} ({side})"
    return claim.owner or side or labels["actions"]["unassigned"]


def _due(claim: Claim, labels: Labels, as_of: date) -> str:
    if claim.due is None:
        return labels["actions"]["no_due"]
    key = "overdue_since" if action_status(claim, as_of) == "overdue" else "due_on"
    return labels["actions"][key].format(date=claim.due.isoformat())


def _action_fields(claim: Claim, as_of: date) -> dict[str, Any]:
    return {"owner": claim.owner, "side": claim.owner_side.value if claim.owner_side else None,
            "due": claim.due.isoformat() if claim.due else None, "status": action_status(claim, as_of)}


# --- shared pieces -------------------------------------------------------------------------------

def _header(title: str, client: ClientInfo, labels: Labels, as_of: date) -> str:
    meta = [labels["text"]["as_of"].format(date=as_of.isoformat())]
    if client.contacts:
        meta.append(labels["text"]["contacts"].format(contacts=", ".join(client.contacts)))
    return f"## {title}: {client.name}\n_{' · '.join(meta)}_"


def _overview(notes: Notes, client: ClientInfo, labels: Labels) -> _Line:
    """Who the client is: since when, how much and by which channels; cites the first and last claims."""
    unknown = labels["text"]["unknown_date"]
    channels = ", ".join(labels["channels"].get(name, name)
                         for name, _count in sorted(notes.channels.items(), key=lambda item: -item[1]))
    text = labels["text"]["overview"].format(
        name=client.name, count=notes.interactions, channels=channels or labels["text"]["no_channels"],
        since=notes.first_at.date().isoformat() if notes.first_at else unknown,
        last=notes.last_at.date().isoformat() if notes.last_at else unknown)
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


def _render_brief(notes: Notes, client: ClientInfo, labels: Labels, as_of: date) -> tuple[str, dict[str, Any]]:
    """Five sentences: who, what they buy, current status, what to expect next, whom to talk to."""
    open_actions = [claim for claim in _of_kind(notes, ClaimKind.ACTION) if not claim.done]
    statuses = sorted(_of_kind(notes, ClaimKind.STATUS), key=lambda claim: claim.date or date.min, reverse=True)
    action = labels["brief"]["action"]
    sentences = [
        _overview(notes, client, labels),
        _brief_sentence(labels, "buys", [(_clause(c), c) for c in _salient(_of_kind(notes, ClaimKind.PURCHASE), 2)]),
        _brief_sentence(labels, "status", [(_clause(c), c) for c in
                                           statuses[:1] + _salient(_of_kind(notes, ClaimKind.RISK), 1)]),
        _brief_sentence(labels, "next", [(action.format(what=_clause(c), who=_who(c, labels),
                                                        due=_due(c, labels, as_of)), c)
                                         for c in _by_due(open_actions, as_of)[:2]]),
        _brief_sentence(labels, "contact", [(_clause(c), c) for c in
                                            _salient(_of_kind(notes, ClaimKind.PERSON), 2)
                                            + _salient(_of_kind(notes, ClaimKind.PREFERENCE), 1)]),
    ]
    return " ".join(line.markdown for line in sentences), {"sentences": [line.as_json() for line in sentences]}


# --- structured ----------------------------------------------------------------------------------

def _section_lines(notes: Notes, client: ClientInfo, labels: Labels, as_of: date) -> dict[str, list[_Line]]:
    actions = [claim for claim in _of_kind(notes, ClaimKind.ACTION) if not claim.done]
    return {
        "current_status": [_dated_line(c) for c in sorted(_of_kind(notes, ClaimKind.STATUS),
                                                          key=lambda c: c.date or date.min, reverse=True)],
        "relationship_history": [_overview(notes, client, labels)]
        + [_dated_line(c, kind=c.kind.value) for c in _chronological(_of_kind(notes, ClaimKind.EVENT,
                                                                               ClaimKind.PURCHASE))],
        "key_agreements": [_dated_line(c) for c in _chronological(_of_kind(notes, ClaimKind.AGREEMENT))],
        "risks": [_dated_line(c) for c in _by_weight(_of_kind(notes, ClaimKind.RISK))],
        "next_steps": [_action_line(c, labels, as_of) for c in _by_due(actions, as_of)],
        "people": [_claim_line(c, kind=c.kind.value) for c in _of_kind(notes, ClaimKind.PERSON, ClaimKind.PREFERENCE)],
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
    sections = [{"key": key, "title": labels["sections"][key], "items": [line.as_json() for line in lines[key]]}
                for key in SECTIONS]
    return markdown, {"sections": sections}


# --- timeline and actions ------------------------------------------------------------------------

def _render_timeline(notes: Notes, _client: ClientInfo, labels: Labels, _as_of: date) -> tuple[str, dict[str, Any]]:
    """Dated events, deals, agreements and incidents, oldest first."""
    events = _chronological([claim for claim in _of_kind(notes, *TIMELINE_KINDS) if claim.date])
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
    rows = [f"| {head['status']} | {head['what']} | {head['who']} | {head['due']} | {head['sources']} |",
            "|---|---|---|---|---|"]
    rows += [f"| {labels['statuses'][line.fields['status']]} | {_table_cell(line.text)} | "
             f"{_table_cell(_who(claim, labels))} | {claim.due.isoformat() if claim.due else '—'} | "
             f"{_markers(line.citations)} |" for claim, line in zip(actions, lines, strict=True)]
    return "\n".join(rows), {"actions": [line.as_json() for line in lines]}


_RENDERERS: dict[str, Callable[[Notes, ClientInfo, Labels, date], tuple[str, dict[str, Any]]]] = {
    "brief": _render_brief, "structured": _render_structured, "timeline": _render_timeline, "actions": _render_actions,
}
_EMPTY_CONTENT: dict[str, Callable[[], dict[str, Any]]] = {
    "brief": lambda: {"sentences": []},
    "structured": lambda: {"sections": []},
    "timeline": lambda: {"events": []},
    "actions": lambda: {"actions": []},
}
