"""Suggested CRM updates from a client's new history: people from signatures and role statements, and deal
stages the conversation implies. A person approves each one; nothing here writes anything.

Customer text is data: it is only matched against the patterns of ``summarizer.lexicon.crm`` and the
grounded extractor's (signatures, role statements); every suggestion cites the interactions it comes from.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, NamedTuple

import phonenumbers
from pydantic import BaseModel, Field

from storage.repository import name_key
from storage.vocabulary import LOST_STAGE, WON_STAGE, closes_deal
from summarizer import extract
from summarizer.lexicon import crm as lex
from summarizer.notes import Side, SourceItem


def _compile(fragments: Iterable[str], flags: int = 0) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fragment})" for fragment in fragments), flags)


DECISION_ROLE = _compile(lex.DECISION_ROLE)
TITLE = _compile(lex.TITLE)
COMPANY = _compile(lex.COMPANY)
SIGNED_DEAL = _compile(lex.SIGNED_DEAL)
LOST_DEAL = _compile(lex.LOST_DEAL)
PERSON_NAME = r"((?-i:[A-ZА-ЯЁĄĆĘŁŃÓŚŹŻ][\w'’-]+(?:\s+[A-ZА-ЯЁĄĆĘŁŃÓŚŹŻ][\w'’-]+){1,2}))"
DECISION_STATEMENT = _compile((pattern.replace("{name}", PERSON_NAME) for pattern in lex.DECISION_STATEMENT), re.I)
#: What frames a first-person role statement: "I'm the ", "я — ", "jestem ", and a trailing " at".
STATEMENT_EDGES = re.compile(r"^(?:i(?:'m| am)|я\s*—?|jestem)\s+(?:the |a |an )?|\s+(?:at|of|in|for)$", re.I)
#: Signature lines after the name that may still belong to the person (title, company, phone, e-mail).
SIGNATURE_PERSON_LINES = 6


class SuggestionKind(StrEnum):
    NEW_CONTACT = "new_contact"  # a person the directory does not know, with an e-mail or a phone
    PHONE_CHANGE = "phone_change"  # a known person writes with a phone the directory does not have
    TITLE_CHANGE = "title_change"  # a known person's title changed
    DECISION_MAKER = "decision_maker"  # a person (new or known) with a decision-making role
    DEAL_STAGE = "deal_stage"  # the conversation says the open deal was won or lost


class KnownContact(NamedTuple):
    """A contact of the client as the directory keeps it: kind, normalized value, the person's name and role."""

    kind: str
    value: str
    name: str | None = None
    role: str | None = None


class KnownDeal(NamedTuple):
    """A deal of the client: its CRM id, name, current stage and when that stage was set."""

    external_id: str
    name: str | None
    stage: str | None
    updated_at: datetime | None


class NewMessage(NamedTuple):
    """One new interaction as the engine sees it, and its author's normalized address or phone."""

    item: SourceItem
    author_contact: str | None = None


class Person(BaseModel):
    """A person as a directory entry: name, title, e-mail (lower-case) and phone (E.164)."""

    name: str
    role: str | None = None
    email: str | None = None
    phone: str | None = None


class PersonUpdate(BaseModel):
    """Write ``person`` to the directory (fields left None stay as they are; the name and e-mail find the
    person's contacts); ``previous`` is what it holds now (None for a new contact)."""

    type: Literal["person"] = "person"
    person: Person
    previous: Person | None = None


class StageUpdate(BaseModel):
    """Move deal ``deal_id`` to ``stage``, as ``evidence`` (a quoted sentence) says."""

    type: Literal["deal_stage"] = "deal_stage"
    deal_id: str
    deal_name: str | None = None
    stage: str
    previous_stage: str | None = None
    evidence: str


Payload = Annotated[PersonUpdate | StageUpdate, Field(discriminator="type")]


class Suggestion(BaseModel):
    """One proposed update; ``key`` names what it proposes, so the same proposal is made once."""

    kind: SuggestionKind
    key: str
    payload: Payload
    source_ids: list[int] = Field(min_length=1)


@dataclass(slots=True)
class _Entry:
    """A person of the directory: the contacts that carry their name (or one unnamed contact)."""

    name: str | None
    role: str | None
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)


class _Directory:
    """The client's known people, found by e-mail address or by name."""

    def __init__(self, contacts: Iterable[KnownContact]):
        self._by_name: dict[str, _Entry] = {}
        self._by_email: dict[str, _Entry] = {}
        for contact in contacts:
            key = name_key(contact.name) if contact.name else f"{contact.kind}:{contact.value}"
            entry = self._by_name.setdefault(key, _Entry(contact.name, None))
            entry.role = entry.role or contact.role
            if contact.kind == "email":
                entry.emails.add(contact.value)
                self._by_email[contact.value] = entry
            elif contact.kind in ("phone", "whatsapp"):
                entry.phones.add(contact.value)

    def find(self, person: Person) -> _Entry | None:
        return (self._by_email.get(person.email) if person.email else None) or self._by_name.get(name_key(person.name))


def propose(
    messages: Sequence[NewMessage],
    known: Sequence[KnownContact] = (),
    deals: Sequence[KnownDeal] = (),
    *,
    phone_region: str = "US",
) -> list[Suggestion]:
    """Every update the ``messages`` suggest for a client whose directory holds ``known`` and ``deals``.

    People come from the client's own messages only (inbound): signatures, and role statements ("I am the
    CEO", "decyzję podejmuje Jan Kowalski"). A deal stage comes from the client's words or our notes, said
    after the open deal last changed. Suggestions with the same key are one, citing every source.
    """
    directory = _Directory(known)
    found: dict[str, Suggestion] = {}
    for message in sorted(messages, key=lambda m: (m.item.occurred_at, m.item.interaction_id)):
        item = message.item
        people = (
            _merged(signature_person(message, phone_region), *stated_people(message))
            if item.direction == "inbound"
            else []
        )
        proposed = [s for person in people for s in person_suggestions(person, directory, item)]
        proposed += filter(None, [stage_suggestion(item, deals)])
        for suggestion in proposed:
            if suggestion.key in found:
                sources = found[suggestion.key].source_ids
                sources += [i for i in suggestion.source_ids if i not in sources]
            else:
                found[suggestion.key] = suggestion
    return list(found.values())


# ------------------------------------------------------------------ people


def is_decision_role(role: str | None) -> bool:
    """Whether a title makes its holder a decision maker (CEO, owner, director, head of purchasing)."""
    return role is not None and DECISION_ROLE.search(role.lower()) is not None


def e164(raw: str, region: str) -> str | None:
    """A phone number as E.164, or None when it is not a valid one."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def signature_person(message: NewMessage, phone_region: str) -> Person | None:
    """The person a signature names: the name line (as the grounded extractor reads it), then the first
    title line, e-mail and phone; the e-mail falls back to the author's address."""
    item = message.item
    name = extract.signature_name(item)
    if name is None:
        return None
    lines = extract.signature_lines(item.signature)
    start = next(index for index, line in enumerate(lines) if line.strip().startswith(name))
    rest = [lines[start].strip()[len(name) :].lstrip(" ,;–—-"), *lines[start + 1 : start + 1 + SIGNATURE_PERSON_LINES]]
    role = email = phone = None
    for line in filter(None, (line.strip() for line in rest)):
        found_emails = extract.emails(line)
        found_phones = extract.phones(line, phone_region)
        email = email or (found_emails[0].lower() if found_emails else None)
        phone = phone or next(filter(None, (e164(raw, phone_region) for raw in found_phones)), None)
        if role is None and not (found_emails or found_phones) and _is_title(line):
            role = line
    return Person(name=name, role=role, email=email or _author_email(message), phone=phone)


def _is_title(line: str) -> bool:
    lower = line.lower()
    return (
        len(line) <= extract.SIGNATURE_LINE_CHARS
        and not extract.CONTACT_LINE.search(line)
        and not COMPANY.search(lower)
        and TITLE.search(lower) is not None
    )


def _merged(*people: Person | None) -> list[Person]:
    """One person per name: the first one's fields (a signature's), completed by the later ones'; a stated
    "decision maker" adds to a title that does not say so already."""
    merged: dict[str, Person] = {}
    for person in filter(None, people):
        first = merged.setdefault(name_key(person.name), person)
        if first is person:
            continue
        role = first.role
        if person.role and not is_decision_role(first.role):
            role = _combined_role(first.role, person.role)
        merged[name_key(person.name)] = first.model_copy(
            update={"role": role, "email": first.email or person.email, "phone": first.phone or person.phone}
        )
    return list(merged.values())


def _author_email(message: NewMessage) -> str | None:
    contact = message.author_contact
    return contact.lower() if contact and "@" in contact else None


def stated_people(message: NewMessage) -> list[Person]:
    """People whose role a message states: the writer ("I am the CEO", "jestem dyrektorem") and anyone named
    as the decision maker ("the decision maker is Anna Nowak")."""
    item = message.item
    found: list[Person] = []
    for segment in extract.segments(item):
        if segment.quoted:
            continue
        claim = extract.role_claim(segment, item)
        role = _role_in(segment.text)
        writer = claim.owner if claim and claim.owner_side == Side.CLIENT else None
        if writer and role and extract.NAME_LINE.match(writer):
            found.append(Person(name=writer, role=role, email=_author_email(message)))
        for statement in DECISION_STATEMENT.finditer(segment.text):
            named = next(group for group in statement.groups() if group)
            found.append(Person(name=named, role=lex.DECISION_MAKER_TITLE.get(item.language or "", "decision maker")))
    return found


def _role_in(text: str) -> str | None:
    """The title a sentence states, as written: the words of "I'm the IT manager at ..." ("IT manager"), else
    the title word it names ("директор")."""
    lower = text.lower()
    if len(lower) != len(text):
        lower = text  # casing changed the length: match the text as written
    statement = extract.ROLE_STATEMENT.search(lower)
    if statement:
        words = STATEMENT_EDGES.sub("", text[statement.start() : statement.end()])
        if TITLE.search(words.lower()):
            return words
    match = DECISION_ROLE.search(lower) or TITLE.search(lower)
    return text[match.start() : match.end()] if match else None


def person_suggestions(person: Person, directory: _Directory, item: SourceItem) -> list[Suggestion]:
    """What ``person`` changes in the directory: a new contact (or decision maker), a new phone, a new title."""
    sources = [item.interaction_id]
    who = name_key(person.name)
    entry = directory.find(person)
    if entry is None:
        if not (person.email or person.phone):
            return []  # nothing to write a contact to
        kind = SuggestionKind.DECISION_MAKER if is_decision_role(person.role) else SuggestionKind.NEW_CONTACT
        identity = person.email or person.phone
        return [_person(kind, f"{kind}:{who}:{identity}", PersonUpdate(person=person), sources)]
    previous = Person(
        name=entry.name or person.name,
        role=entry.role,
        email=person.email if person.email in entry.emails else next(iter(sorted(entry.emails)), None),
        phone=next(iter(sorted(entry.phones)), None),
    )
    known_contact = previous.email or previous.phone
    found: list[Suggestion] = []
    if person.phone and person.phone not in entry.phones and known_contact:
        update = Person(name=previous.name, email=previous.email, phone=person.phone)
        key = f"{SuggestionKind.PHONE_CHANGE}:{who}:{person.phone}"
        found.append(_person(SuggestionKind.PHONE_CHANGE, key, PersonUpdate(person=update, previous=previous), sources))
    if person.role and (entry.role or "").casefold() != person.role.casefold() and known_contact:
        promoted = is_decision_role(person.role) and not is_decision_role(entry.role)
        kind = SuggestionKind.DECISION_MAKER if promoted else SuggestionKind.TITLE_CHANGE
        update = Person(name=previous.name, role=_combined_role(entry.role, person.role), email=previous.email)
        key = f"{kind}:{who}:{person.role.casefold()}"
        found.append(_person(kind, key, PersonUpdate(person=update, previous=previous), sources))
    return found


def _combined_role(previous: str | None, new: str) -> str:
    """A stated "decision maker" adds to a known title; any other title replaces it."""
    return f"{previous}, {new}" if previous and new in lex.DECISION_MAKER_TITLE.values() else new


def _person(kind: SuggestionKind, key: str, update: PersonUpdate, sources: list[int]) -> Suggestion:
    return Suggestion(kind=kind, key=key, payload=update, source_ids=sources)


# ------------------------------------------------------------------ deal stages


def implied_stage(text: str) -> str | None:
    """The stage a sentence says the deal reached: won ("we signed") or lost ("we chose another supplier")."""
    lower = text.lower()
    if LOST_DEAL.search(lower):
        return LOST_STAGE
    return WON_STAGE if SIGNED_DEAL.search(lower) else None


def stage_suggestion(item: SourceItem, deals: Sequence[KnownDeal]) -> Suggestion | None:
    """The client's newest open deal moved to the stage the item implies (the client's words or our notes,
    said after the deal last changed); None when it implies none or no deal is open."""
    open_deals = [deal for deal in deals if not closes_deal(deal.stage)]
    if not open_deals or item.channel == "deal_event":
        return None
    deal = max(open_deals, key=lambda d: (d.updated_at is not None, d.updated_at or item.occurred_at))
    if deal.updated_at is not None and item.occurred_at <= deal.updated_at:
        return None
    for segment in extract.segments(item):
        if segment.quoted or not (segment.side == Side.CLIENT or item.direction == "internal"):
            continue
        stage = implied_stage(segment.text)
        if stage is not None:
            update = StageUpdate(
                deal_id=deal.external_id,
                deal_name=deal.name,
                stage=stage,
                previous_stage=deal.stage,
                evidence=segment.text,
            )
            key = f"{SuggestionKind.DEAL_STAGE}:{deal.external_id}:{stage}"
            return Suggestion(kind=SuggestionKind.DEAL_STAGE, key=key, payload=update, source_ids=[item.interaction_id])
    return None
