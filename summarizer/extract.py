"""Deterministic extraction: one source item -> claims quoted from it, for the grounded engine.

Every claim's ``text`` is a sentence (or a signature's lines) of the item as ``source_text`` reads it,
so nothing can be invented: the engine quotes, classifies and dates; it never writes. Patterns live in
``summarizer.lexicon.grounded`` and are compiled once here. Text is data: whatever a message says,
it is only matched against these patterns.
"""

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

import phonenumbers

from storage.periods import month_key
from storage.vocabulary import closes_deal, wins_deal
from summarizer.dates import due_date
from summarizer.lexicon import grounded as lex
from summarizer.merge import EVIDENCE_WEIGHT, TONE_COOLING, TONE_WARM, consolidate, fulfils_topic
from summarizer.notes import Citation, Claim, ClaimKind, Notes, Side, SourceItem

MIN_WORDS = 2  # shorter sentences ("Договорились!") carry no claim of their own
MAX_SENTENCE_CHARS = 400  # longer ones are quoted clause by clause
SIGNATURE_LINE_CHARS = 80  # a longer line ends a signature's person block
FIRST_CONTACT_MIN_WORDS = 4

WEIGHTS = {
    "critical": 1.0,
    "competitor": 0.8,
    "warning": 0.8,
    "complaint": 0.7,
    "purchase": 0.7,
    "role": 0.6,
    "preference": 0.6,
    "promise": 0.5,
    "agreement": 0.6,
    "deal_closed": 0.6,
    "signature": 0.5,
    "status": 0.5,
    "interest": 0.5,
    "incident": 0.5,
    "resolution": 0.5,
    "first_contact": 0.5,
    "deal_stage": 0.4,
    "price": 0.4,
    "done": 0.3,
    "event": 0.5,
    "churn": 0.75,
    "question": 0.4,
    "thread": 0.45,
    "author": 0.3,
    "fact": 0.4,
    "gist": 0.35,
}
QUOTED_FACTOR = 0.6  # claims from quoted or forwarded history weigh less than the message's own words
QUOTED_KINDS = frozenset({ClaimKind.EVENT, ClaimKind.PURCHASE})  # all that quoted history may contribute
QUESTION_MIN_WORDS = 4  # "Comments?" is not an open question
DUE_BONUS = 0.1
AMOUNT_BONUS = 0.1
# A message with a claim of one of these kinds (not a question) needs no gist (``gist_claims``).
GIST_COVERED_KINDS = frozenset(
    {ClaimKind.EVENT, ClaimKind.STATUS, ClaimKind.AGREEMENT, ClaimKind.ACTION, ClaimKind.RISK, ClaimKind.PURCHASE}
)
GIST_MIN_WORDS = 6
GIST_SENTENCES = 2  # a message with no rule's claim gets one gist per this many eligible sentences
GIST_MAX = 3
GIST_MAX_WORDS = 60
GIST_MIN_SPECIFICITY = 3
GIST_LONG_WORD = 8


def _compile(fragments: Iterable[str], flags: int = 0) -> re.Pattern[str]:
    """One alternation of lexicon fragments; without flags it is matched against lower-cased text
    (several times faster than ``re.IGNORECASE`` on Unicode)."""
    return re.compile("|".join(f"(?:{fragment})" for fragment in fragments), flags)


PROMISE = _compile(lex.PROMISE)
REQUEST = _compile(lex.REQUEST)
DONE = _compile(lex.DONE)
RECEIVED = _compile(lex.RECEIVED)
CONCEPT = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in lex.CONCEPTS))
COMPLAINT = _compile(lex.COMPLAINT)
RESOLVED_STRONG = _compile(lex.RESOLVED_STRONG)
RESOLVED_WEAK = _compile(lex.RESOLVED_WEAK)
COMPETITOR = _compile(lex.COMPETITOR)
WARNING = _compile(lex.WARNING)
CRITICAL = _compile(lex.CRITICAL)
STATUS = _compile(lex.STATUS)
AGREEMENT = _compile(lex.AGREEMENT)
INTEREST = _compile(lex.INTEREST)
PURCHASE = _compile(lex.PURCHASE)
PRODUCT_CODE = re.compile(lex.PRODUCT_CODE)
SIGNED_STAGE = re.compile(lex.SIGNED_STAGE)
SIGNED = re.compile(lex.SIGNED)
PRODUCT_STOPWORDS = frozenset(lex.PRODUCT_STOPWORDS)
ABBREVIATIONS = frozenset(lex.ABBREVIATIONS)
ROLE_STATEMENT = _compile(lex.ROLE_STATEMENT)
FIRST_PERSON = re.compile(r"^(?:i\b|я\b|jestem\b)")
SIGN_OFF = _compile(lex.SIGN_OFF, re.IGNORECASE)
PREFERENCE = _compile(lex.PREFERENCE)
TONE_POSITIVE = _compile(lex.TONE_POSITIVE)
TONE_NEGATIVE = _compile(lex.TONE_NEGATIVE)
AMOUNT = re.compile(
    rf"(?:{lex.CURRENCY_BEFORE})(?:{lex.NUMBER}){lex.MULTIPLIER}|"
    rf"(?<![\d.,])(?:{lex.NUMBER}){lex.MULTIPLIER}{lex.CURRENCY_AFTER}"
)
EMAIL = re.compile(lex.EMAIL)
PHONE_CANDIDATE = re.compile(lex.PHONE_CANDIDATE)
DEAL_EVENT = re.compile(lex.DEAL_EVENT, re.DOTALL)
REPLY_HEADER = _compile(lex.REPLY_HEADER, re.IGNORECASE | re.MULTILINE)
ATTRIBUTION = re.compile(lex.ATTRIBUTION, re.IGNORECASE)
HEADER_LINE = re.compile(lex.HEADER_LINE, re.IGNORECASE)
HEADER_RESIDUE = _compile(lex.HEADER_RESIDUE, re.IGNORECASE)
QUOTE_MARKER = re.compile(r"(?:(?<=\s)|^)>+")
QUOTED_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
BOILERPLATE = _compile(lex.BOILERPLATE)
PERSONAL_FUTURE = _compile(lex.PERSONAL_FUTURE)
COMMITMENT = _compile(lex.COMMITMENT)
CHURN = _compile(lex.CHURN)
EVENT_NOUN = _compile(lex.EVENT_NOUN)
SCHEDULING = _compile(lex.SCHEDULING)
CLOCK_TIME = re.compile(lex.CLOCK_TIME)
QUANTITY = re.compile(lex.QUANTITY)
CONTACT_WORD = _compile(lex.CONTACT_WORD)
PLACE = re.compile(lex.PLACE)
NEGATED = re.compile(r"\b(?:not|no|не|nie)\s+(?:[^\W\d_]+\s+)?$")  # "not", "не", "nie" just before a phrase
# An English future that is a commitment only when a verb of substance follows it ("I will send ...").
GENERIC_FUTURE = re.compile(
    r"(?:(?:i|we|he|she|they|our \w+)\s*(?:'ll|’ll|\s+will|\s+shall|\s+am going to|"
    r"\s+are going to|\s+plan (?:on|to))|let me)\b"
)
COMMITMENT_NEXT = re.compile(
    r"\s*(?:(?:also|then|definitely|gladly|soon|shortly|personally|now|still|just)\s+)*"
    rf"(?:{'|'.join(lex.COMMITMENT)})"
)

BLOCK_BREAK = re.compile(r"\n\s*\n|\n(?=[^a-zа-яёąćęłńóśźż\s])")
WRAPPED_LINE_CHARS = 60  # a line at least this long that ends mid-sentence was wrapped: the next continues it
LINE_END = re.compile(r"[.!?:;…]$")
CLAUSE_BREAK = re.compile(r"(?<=[;:,])\s+")
SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+(?=[\"«(\[]?[A-ZА-ЯЁĄĆĘŁŃÓŚŹŻ0-9])")
CALL_LINE = re.compile(r"\[(?:(\d{1,2}):)?(\d{1,3}):(\d{2})\]\s*([^:\]\n]{1,40}):\s*")
SUBJECT_PREFIX = re.compile(r"^(?:(?:re|fwd?|aw|odp|отв|ответ)\s*:\s*)+", re.IGNORECASE)
NAME_LINE = re.compile(r"^[A-ZА-ЯЁĄĆĘŁŃÓŚŹŻ][\w'’.-]+(?:\s+[A-ZА-ЯЁĄĆĘŁŃÓŚŹŻ][\w'’.-]+){1,3}$")
CONTACT_LINE = re.compile(rf"{lex.EMAIL}|https?://|www\.|^[\w-]+(?:\.[\w-]+)+$")
WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True, slots=True)
class Rules:
    """Configuration of extraction: named competitors and the region of numbers without +code."""

    competitors: re.Pattern[str] | None
    phone_region: str


def make_rules(competitors: Iterable[str] = (), phone_region: str = "US") -> Rules:
    """Rules with ``competitors`` matched as whole words, case-insensitively."""
    names = sorted({name.strip().lower() for name in competitors if name.strip()})
    pattern = re.compile("|".join(rf"\b{re.escape(name)}\b" for name in names)) if names else None
    return Rules(pattern, phone_region)


DEFAULT_RULES = make_rules()


@dataclass(slots=True)
class Segment:
    """A sentence of an item (and its lower-cased form, which patterns match), who said it, and for
    calls the second it starts at."""

    text: str
    side: Side | None
    owner: str | None
    at_seconds: float | None = None
    quoted: bool = False  # quoted or forwarded history, not the item's own words
    lower: str = field(init=False)

    def __post_init__(self) -> None:
        self.lower = self.text.lower()


# ------------------------------------------------------------------ text


def flatten(text: str) -> str:
    """``text`` with every run of whitespace made one space: the form claims quote."""
    return " ".join(text.split())


def signature_lines(signature: str) -> list[str]:
    """The non-empty lines of a signature, trailing commas dropped."""
    return [line.strip().rstrip(",;") for line in signature.splitlines() if line.strip().rstrip(",;")]


def source_text(item: SourceItem) -> str:
    """The item as claims quote it: subject, text, and the signature's lines joined by commas."""
    parts = [flatten(item.subject or ""), flatten(item.text), ", ".join(signature_lines(item.signature))]
    return "\n".join(part for part in parts if part)


def blocks(text: str) -> list[str]:
    """Blocks of ``text``: split at blank lines and at new lines that start with a capital or a symbol,
    unless the line before was wrapped (long, ending mid-sentence)."""
    found: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        lines = paragraph.split("\n")
        current = [lines[0]]
        for previous, line in pairwise(lines):
            wrapped = len(previous.rstrip()) >= WRAPPED_LINE_CHARS and not LINE_END.search(previous.rstrip())
            if wrapped or not BLOCK_BREAK.match("\n" + line):
                current.append(line)
            else:
                found.append("\n".join(current))
                current = [line]
        found.append("\n".join(current))
    return found


def sentences(text: str, *, clauses: bool = True) -> list[str]:
    """Sentences of ``text``: its blocks (``blocks``) split at sentence ends, and a long one into its clauses
    unless ``clauses`` is false."""
    found: list[str] = []
    for block in blocks(text):
        in_block: list[str] = []
        for part in filter(None, SENTENCE_BREAK.split(flatten(block))):
            if in_block and _ends_with_abbreviation(in_block[-1]):
                in_block[-1] = f"{in_block[-1]} {part}"
            else:
                in_block.append(part)
        found += in_block
    return [clause for sentence in found for clause in _clauses(sentence)] if clauses else found


def own_and_quoted(text: str) -> list[tuple[str, bool]]:
    """Sentences of an e-mail's ``text``, each marked True when it is quoted or forwarded history: after a
    reply header ("-----Original Message-----", "Name <a@b> on 04/23/2001 ...", "On ... wrote:"), or an
    inline "> " quote (up to its first sentence end when the quote ends the passage). Header lines of the
    history ("To: ...", "cc:") are left out."""
    header = REPLY_HEADER.search(text)
    own, history = (text[: header.start()], text[header.start() :]) if header else (text, "")
    found: list[tuple[str, bool]] = []
    for block in blocks(_without_header_lines(own)):
        for piece, quoted in _inline_quotes(block):
            found += [(sentence, quoted) for sentence in sentences(piece)]
    history_lines = _without_header_lines(history).split("\n")[1:] if history else []
    return found + [(sentence, True) for sentence in sentences("\n".join(history_lines))]


def _without_header_lines(text: str) -> str:
    """``text`` with mail header lines ("To: ...", "cc:") blanked, so that no sentence spans them."""
    return "\n".join("" if HEADER_LINE.match(line) else line for line in text.split("\n"))


def _inline_quotes(block: str) -> list[tuple[str, bool]]:
    """A block cut at its "> " quote markers: the text before the first is the writer's; a quoted piece
    runs to the next marker, or, for the last one, to its first sentence end; "... wrote:" goes."""
    block = ATTRIBUTION.sub(" ", block)
    markers = list(QUOTE_MARKER.finditer(block))
    if not markers:
        return [(block, False)]
    found = [(block[: markers[0].start()], False)]
    for index, marker in enumerate(markers):
        end = markers[index + 1].start() if index + 1 < len(markers) else len(block)
        piece = block[marker.end() : end]
        if index + 1 < len(markers):
            found.append((piece, True))
            continue
        stop = QUOTED_SENTENCE_END.search(piece)
        cut = stop.end() if stop else len(piece)
        found += [(piece[:cut], True), (piece[cut:], False)]
    return [(piece, quoted) for piece, quoted in found if piece.strip()]


def _clauses(sentence: str) -> list[str]:
    """A sentence longer than ``MAX_SENTENCE_CHARS`` cut at clause breaks, else between words (a word
    longer than that is cut short): every piece is still a quote."""
    if len(sentence) <= MAX_SENTENCE_CHARS:
        return [sentence]
    by_clause = CLAUSE_BREAK.search(sentence) is not None
    pieces: list[str] = []
    for part in CLAUSE_BREAK.split(sentence) if by_clause else sentence.split(" "):
        if pieces and len(pieces[-1]) + 1 + len(part) <= MAX_SENTENCE_CHARS:
            pieces[-1] = f"{pieces[-1]} {part}"
        elif by_clause:
            pieces += _clauses(part)
        else:
            pieces.append(part[:MAX_SENTENCE_CHARS])
    return pieces


def _ends_with_abbreviation(sentence: str) -> bool:
    last = sentence.rsplit(None, 1)[-1]
    return last.endswith(".") and last[:-1].casefold().lstrip("(") in ABBREVIATIONS


def item_side(item: SourceItem) -> Side | None:
    """Whose words the item holds: the client's (inbound) or ours (outbound, internal notes)."""
    return {"inbound": Side.CLIENT, "outbound": Side.US, "internal": Side.US}.get(item.direction)


def segments(item: SourceItem) -> list[Segment]:
    """The item's sentences with their speaker; a call's lines keep their start second."""
    lines = list(CALL_LINE.finditer(item.text)) if item.channel == "call" else []
    if not lines:
        side = item_side(item)
        return [Segment(sentence, side, item.author, quoted=quoted) for sentence, quoted in own_and_quoted(item.text)]
    starts = item.segment_starts if len(item.segment_starts) == len(lines) else None
    found: list[Segment] = []
    for index, line in enumerate(lines):
        end = lines[index + 1].start() if index + 1 < len(lines) else len(item.text)
        hours, minutes, seconds, speaker = line.groups()
        at = starts[index] if starts else int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
        side = _speaker_side(speaker)
        owner = item.author if side is not None and side == item_side(item) else speaker.strip()
        found.extend(Segment(sentence, side, owner, float(at)) for sentence in sentences(item.text[line.end() : end]))
    return found


def _speaker_side(speaker: str) -> Side | None:
    label = speaker.strip().casefold()
    if label in lex.AGENT_SPEAKERS:
        return Side.US
    return None if label == "unknown" else Side.CLIENT


def _other(side: Side | None) -> Side | None:
    return None if side is None else {Side.US: Side.CLIENT, Side.CLIENT: Side.US}[side]


# ------------------------------------------------------------------ amounts, phones, e-mails


def amounts(text: str) -> list[str]:
    """Amounts with a currency, as written: "12 000 PLN", "€4,500", "150 000 руб.", "$3k"."""
    return [match.group().strip() for match in AMOUNT.finditer(text)]


def emails(text: str) -> list[str]:
    """E-mail addresses in ``text``."""
    return EMAIL.findall(text)


def phones(text: str, region: str = "US") -> list[str]:
    """Valid phone numbers in ``text`` as written; numbers without +code are read for ``region``."""
    if not PHONE_CANDIDATE.search(text):
        return []
    masked = AMOUNT.sub(lambda match: " " * len(match.group()), text)
    if not PHONE_CANDIDATE.search(masked):
        return []
    return [match.raw_string for match in phonenumbers.PhoneNumberMatcher(masked, region)]


# ------------------------------------------------------------------ claims


def _claim(
    kind: ClaimKind, text: str, item: SourceItem, segment: Segment | None, weight: float, **fields: object
) -> Claim:
    at = segment.at_seconds if segment else None
    return Claim(
        kind=kind,
        text=text,
        date=item.occurred_at.date(),
        weight=weight,
        sources=[Citation(interaction_id=item.interaction_id, at_seconds=at)],
        **fields,
    )


def _plus(weight: float, bonus: float) -> float:
    return round(weight + bonus, 2)


def concept(text: str, near: int) -> str | None:
    """What an action is about ("contract", "quote", ...): the concept named nearest to ``near``."""
    matches = list(CONCEPT.finditer(text))
    return min(matches, key=lambda match: abs(match.start() - near)).lastgroup if matches else None


def is_commitment(text: str, at: int) -> bool:
    """Whether the future at ``at`` of lower-cased ``text`` commits to something of substance (a verb such
    as send or arrange, or a concept such as the contract) rather than a personal remark ("I will be at
    home", "I will not be arriving until midnight")."""
    personal = PERSONAL_FUTURE.search(text, max(at - 12, 0))
    if personal and personal.start() <= at + 12:
        return False
    generic = GENERIC_FUTURE.match(text, at)
    return generic is None or COMMITMENT_NEXT.match(text, generic.end()) is not None


def action_trigger(text: str) -> tuple[re.Match[str] | None, str]:
    """What makes lower-cased ``text`` an action: a promise, a request (or an open question), done or
    received. Courtesy ("let me know if you have questions") is none of them."""
    promise = PROMISE.search(text)
    if promise and not (INTEREST.search(text) or PURCHASE.search(text)) and is_commitment(text, promise.start()):
        return promise, "promise"
    request = REQUEST.search(text)
    if request and not BOILERPLATE.search(text) and (CONCEPT.search(text) or COMMITMENT.search(text, request.end())):
        return request, "request"
    if text.endswith("?") and len(text.split()) >= QUESTION_MIN_WORDS:
        return None, "question"
    done = DONE.search(text)
    return (done, "done") if done else (RECEIVED.search(text), "received")


def stated_as(text: str) -> str | None:
    """How an action's sentence puts it: ``promise`` (the writer commits), ``request`` (the writer asks the
    other side, or asks an open question), None for anything else (done, received, or wording no rule reads)."""
    trigger, how = action_trigger(text.strip().lower())
    if how == "question" or (trigger is not None and how == "request"):
        return "request"
    return "promise" if trigger is not None and how == "promise" else None


def action_claim(segment: Segment, item: SourceItem) -> Claim | None:
    """A promise or a done action (owner: the speaker), a request or a receipt (the other side's).

    Done and received claims need a concept: they exist to close an earlier action of that topic.
    """
    trigger, how = action_trigger(segment.lower)
    if how == "question":
        return _claim(
            ClaimKind.ACTION,
            segment.text,
            item,
            segment,
            WEIGHTS["question"],
            owner_side=_other(segment.side),
            topic=None,
        )
    if trigger is None:
        return None
    about = concept(segment.lower, trigger.start())
    settled = how in ("done", "received")
    if settled and about is None:
        return None
    theirs = how in ("request", "received")
    side = _other(segment.side) if theirs else segment.side
    due = None if settled else due_date(segment.lower, item.occurred_at)
    weight = _plus(WEIGHTS["done" if settled else "promise"], DUE_BONUS if due else 0.0)
    return _claim(
        ClaimKind.ACTION,
        segment.text,
        item,
        segment,
        weight,
        owner=None if theirs else segment.owner,
        owner_side=side,
        due=due,
        done=settled,
        topic=f"action:{side}:{about}" if about and side else None,
    )


def product_slug(code: str) -> str:
    """A product code normalized for comparison: "NW-300" and "nw300" -> "nw300"."""
    return re.sub(r"\W", "", code.casefold())


def product_key(text: str, after: int) -> str | None:
    """A product's normalized name: its code (NW-300 -> nw300), else the words after ``after``."""
    code = PRODUCT_CODE.search(text, after) or PRODUCT_CODE.search(text)
    if code:
        return product_slug(code.group())
    words = [word.casefold() for word in WORD.findall(text[after:])]
    stems = [word[:5] for word in words if word not in PRODUCT_STOPWORDS][:2]
    return " ".join(stems) or None


def purchase_claim(segment: Segment, item: SourceItem) -> Claim | None:
    """What the client bought or is interested in, with topic ``product:<name>``."""
    match = PURCHASE.search(segment.lower)
    weight = WEIGHTS["purchase"]
    if not match:
        match, weight = INTEREST.search(segment.lower), WEIGHTS["interest"]
    if not match or (weight == WEIGHTS["interest"] and NEGATED.search(segment.lower[: match.start()])):
        return None
    product = product_key(segment.text, match.end())
    return _claim(
        ClaimKind.PURCHASE, segment.text, item, segment, weight, topic=f"product:{product}" if product else None
    )


def status_claim(segment: Segment, item: SourceItem) -> Claim | None:
    """Where things stand ("quote approved", "not ready to decide yet"): topic ``status``."""
    if not STATUS.search(segment.lower):
        return None
    return _claim(ClaimKind.STATUS, segment.text, item, segment, WEIGHTS["status"], topic="status")


def role_claim(segment: Segment, item: SourceItem) -> Claim | None:
    """A person and their role stated in a message ("I am the CFO at ...", "decision maker")."""
    match = ROLE_STATEMENT.search(segment.lower)
    if not match:
        return None
    first_person = FIRST_PERSON.match(match.group())
    name = (signature_name(item) or segment.owner) if first_person else None
    return _claim(
        ClaimKind.PERSON,
        segment.text,
        item,
        segment,
        WEIGHTS["role"],
        owner=name,
        owner_side=segment.side if first_person else None,
    )


def signature_name(item: SourceItem) -> str | None:
    """The name line of the item's signature, if it has one."""
    lines = [
        part.strip()
        for line in signature_lines(item.signature)
        if not SIGN_OFF.search(line)
        for part in _split_name_and_title(line)
    ]
    return next((line for line in lines if NAME_LINE.match(line)), None)


def preference_claim(segment: Segment, item: SourceItem, rules: Rules) -> Claim | None:
    """How and when to reach someone: a stated preference, a phone number or an e-mail address."""
    text = segment.text
    if HEADER_RESIDUE.search(text):
        return None
    reachable = CONTACT_WORD.search(segment.lower) and (emails(text) or phones(text, rules.phone_region))
    if not (PREFERENCE.search(segment.lower) or reachable):
        return None
    return _claim(ClaimKind.PREFERENCE, text, item, segment, WEIGHTS["preference"])


def agreement_claim(segment: Segment, item: SourceItem) -> Claim | None:
    """Agreed terms ("ok, 7% проходит", "deal, ale ... 5%")."""
    if not AGREEMENT.search(segment.lower):
        return None
    return _claim(ClaimKind.AGREEMENT, segment.text, item, segment, WEIGHTS["agreement"])


def risk_claim(segment: Segment, item: SourceItem, rules: Rules) -> Claim | None:
    """Rare critical news (retirement, new boss, budget cut), competitors, or a risk our notes flag."""
    text = segment.lower
    if CRITICAL.search(text):
        weight = WEIGHTS["critical"]
    elif COMPETITOR.search(text) or (rules.competitors and rules.competitors.search(text)):
        weight = WEIGHTS["competitor"]
    elif item.direction == "internal" and WARNING.search(text):
        weight = WEIGHTS["warning"]
    else:
        return None
    return _claim(ClaimKind.RISK, segment.text, item, segment, weight)


def issue_claims(segment: Segment, item: SourceItem) -> list[Claim]:
    """An incident or its resolution: a risk or a status with topic ``issue``, and a timeline event; a resolution
    also as evidence fulfilling the remedies (visit, replacement, refund) promised for it."""
    text = segment.lower
    complaint = COMPLAINT.search(text)
    if RESOLVED_STRONG.search(text) or (complaint and RESOLVED_WEAK.search(text)):
        kind, weight = ClaimKind.STATUS, WEIGHTS["resolution"]
    elif complaint and (segment.side == Side.CLIENT or item.direction == "internal"):
        kind, weight = ClaimKind.RISK, WEIGHTS["complaint"]
    else:
        return []
    claims = [
        _claim(kind, segment.text, item, segment, weight, topic="issue"),
        _claim(ClaimKind.EVENT, segment.text, item, segment, WEIGHTS["incident"]),
    ]
    if kind == ClaimKind.STATUS:  # the resolution is evidence that the remedies promised for the incident came
        remedies = fulfils_topic(lex.RESOLUTION_FULFILS)
        claims.append(_claim(ClaimKind.STATUS, segment.text, item, segment, EVIDENCE_WEIGHT, topic=remedies))
    return claims


def sentence_claims(segment: Segment, item: SourceItem, rules: Rules, *, with_issue: bool) -> list[Claim]:
    """Every claim one sentence makes; ``with_issue`` allows its incident or resolution.

    A sentence stating an amount weighs more, and one that no other rule took (a price, unless it is
    a question) becomes an agreement of low weight.
    """
    if len(segment.text.split()) < MIN_WORDS or HEADER_RESIDUE.search(segment.text):
        return []
    if BOILERPLATE.search(segment.lower) and not AMOUNT.search(segment.text):
        return [claim for claim in [preference_claim(segment, item, rules)] if claim and not segment.quoted]
    found = [
        claim
        for claim in (
            action_claim(segment, item),
            purchase_claim(segment, item),
            status_claim(segment, item),
            role_claim(segment, item),
            preference_claim(segment, item, rules),
            agreement_claim(segment, item),
            risk_claim(segment, item, rules),
        )
        if claim
    ]
    if with_issue and not segment.quoted:
        found += issue_claims(segment, item)
    found += filter(None, [signed_claim(segment, item, found)])
    found += filter(None, [event_claim(segment, item, found)])
    found += filter(None, [offer_claim(segment, item, found)])
    if AMOUNT.search(segment.text):
        found = [
            claim
            if claim.kind == ClaimKind.RISK
            else claim.model_copy(update={"weight": _plus(claim.weight, AMOUNT_BONUS)})
            for claim in found
        ]
    if segment.quoted:
        found = [
            claim.model_copy(update={"weight": round(claim.weight * QUOTED_FACTOR, 2)})
            for claim in found
            if claim.kind in QUOTED_KINDS
        ]
    return found


def signed_claim(segment: Segment, item: SourceItem, found: list[Claim]) -> Claim | None:
    """Evidence that the contract was signed ("The signed contract is attached"): it fulfils every earlier
    contract action, whichever side owed it (``merge.settle_by_fulfilment``)."""
    done_contract = any(claim.done and (claim.topic or "").endswith(":contract") for claim in found)
    if segment.quoted or not done_contract or not SIGNED.search(segment.lower):
        return None
    return _claim(ClaimKind.STATUS, segment.text, item, segment, EVIDENCE_WEIGHT, topic=fulfils_topic(["contract"]))


def offer_claim(segment: Segment, item: SourceItem, found: list[Claim]) -> Claim | None:
    """Evidence that one side gave its price ("Renewal for 50 units is EUR 1,500 per year"): a statement of its
    own with an amount that promises or asks nothing fulfils the quote that side owed in the weeks before
    (``merge.settle_by_fulfilment``), so a request for the terms is not left open once they were sent."""
    if segment.quoted or segment.side is None or segment.lower.rstrip().endswith("?"):
        return None
    if not AMOUNT.search(segment.text) or any(claim.kind == ClaimKind.ACTION and not claim.done for claim in found):
        return None
    topic = fulfils_topic(["quote"], segment.side)
    return _claim(ClaimKind.STATUS, segment.text, item, segment, EVIDENCE_WEIGHT, topic=topic, owner_side=segment.side)


def event_claim(segment: Segment, item: SourceItem, found: list[Claim]) -> Claim | None:
    """A fact for the timeline: a meeting, call or visit with its date, a clock time or a place, something
    scheduled, moved, cancelled or offered, a churn threat (a risk), or a figure (amount, share, quantity)
    no other rule took."""
    text = segment.lower
    if CHURN.search(text):
        return _claim(ClaimKind.RISK, segment.text, item, segment, WEIGHTS["churn"])
    if any(claim.kind in (ClaimKind.ACTION, ClaimKind.EVENT, ClaimKind.PREFERENCE) for claim in found):
        return None  # a clock time in a preference ("call before 12:00") is when to reach them, not an event
    timed = CLOCK_TIME.search(text) is not None
    dated = timed or due_date(text, item.occurred_at) is not None
    if SCHEDULING.search(text) or timed or PLACE.search(segment.text) or (dated and EVENT_NOUN.search(text)):
        return _claim(ClaimKind.EVENT, segment.text, item, segment, _plus(WEIGHTS["event"], DUE_BONUS if dated else 0))
    if not found and not text.endswith("?") and (AMOUNT.search(segment.text) or QUANTITY.search(segment.text)):
        return _claim(ClaimKind.EVENT, segment.text, item, segment, _plus(WEIGHTS["fact"], AMOUNT_BONUS))
    return None


def signature_claim(item: SourceItem) -> Claim | None:
    """A person from a signature: name line, then title, company and phone lines, as one claim."""
    lines = [
        line
        for line in signature_lines(item.signature)
        if not SIGN_OFF.search(line) and not HEADER_RESIDUE.search(line)
    ]
    lines = list(dict.fromkeys(part.strip() for line in lines for part in _split_name_and_title(line)))
    start = next((index for index, line in enumerate(lines) if NAME_LINE.match(line)), None)
    if start is None:
        return None
    block = [lines[start]]
    for line in lines[start + 1 : start + 4]:
        if CONTACT_LINE.search(line) or len(line) > SIGNATURE_LINE_CHARS:
            break
        block.append(line)
    if len(block) < 2:
        return None
    return _claim(
        ClaimKind.PERSON,
        ", ".join(block),
        item,
        None,
        WEIGHTS["signature"],
        owner=lines[start],
        owner_side=item_side(item),
        topic=f"person:{lines[start].casefold()}",
    )


def _split_name_and_title(line: str) -> list[str]:
    """ "Emily Clarke, Head of Procurement" -> the name line and the title line, as in a block."""
    name, comma, rest = line.partition(",")
    return [name, rest] if comma and rest.strip() and NAME_LINE.match(name.strip()) else [line]


def deal_claims(item: SourceItem, rules: Rules) -> list[Claim] | None:
    """A CRM stage change: a timeline event, the deal's status, a purchase when won; None if not one."""
    body = flatten(item.text)
    match = DEAL_EVENT.match(body)
    if not match:
        return None
    statement = sentences(body)[0]
    deal, stage = match["deal"], match["stage"].strip().casefold()
    has_id = deal.endswith(")") and "(" in deal
    deal_id = deal[deal.rindex("(") + 1 : -1] if has_id else deal
    deal_name = deal[: deal.rindex("(")] if has_id else deal
    closed = closes_deal(stage)
    found = [
        _claim(ClaimKind.EVENT, statement, item, None, WEIGHTS["deal_closed" if closed else "deal_stage"]),
        _claim(ClaimKind.STATUS, body, item, None, WEIGHTS["status"], topic=f"deal:{deal_id}"),
    ]
    if wins_deal(stage) or SIGNED_STAGE.search(stage):
        topic = fulfils_topic(lex.WON_DEAL_FULFILS)
        found.append(_claim(ClaimKind.STATUS, statement, item, None, EVIDENCE_WEIGHT, topic=topic))
    code = PRODUCT_CODE.search(deal_name)
    if wins_deal(stage) and code:
        found.append(
            _claim(
                ClaimKind.PURCHASE,
                statement,
                item,
                None,
                WEIGHTS["purchase"],
                topic=f"product:{product_slug(code.group())}",
            )
        )
    if match["reason"]:
        reason = Segment(match["reason"], item_side(item), item.author)
        found += [
            *filter(None, [action_claim(reason, item), risk_claim(reason, item, rules)]),
            *issue_claims(reason, item),
        ]
    return found


def extract(item: SourceItem, rules: Rules = DEFAULT_RULES) -> list[Claim]:
    """Every claim of one item, in the order its text makes them."""
    found = deal_claims(item, rules) if item.channel == "deal_event" else None
    if found is not None:
        return found
    found = []
    issue_seen = False
    for segment in segments(item):
        claims = sentence_claims(segment, item, rules, with_issue=not issue_seen)
        issue_seen = issue_seen or any(claim.topic == "issue" for claim in claims)
        found += claims
    if not any(claim.kind in GIST_COVERED_KINDS and not claim.text.rstrip().endswith("?") for claim in found):
        found += gist_claims(item, taken={claim.text for claim in found})
    signature = signature_claim(item)
    found += filter(None, [signature or author_claim(item), thread_claim(item), reply_claim(item)])
    return found


def gist_claims(item: SourceItem, *, taken: set[str]) -> list[Claim]:
    """A message that no rule took still says something: its most specific own sentences (names, figures,
    long words; not a question, courtesy or header residue, not one of the ``taken`` sentences another claim
    already holds) as low-weight events, one per ``GIST_SENTENCES`` eligible sentences up to ``GIST_MAX``, so
    that every message of a history is represented and a long one by more than its first point."""
    candidates = [
        segment
        for segment in segments(item)
        if not segment.quoted and segment.text not in taken and _gist_eligible(segment)
    ]
    count = min(GIST_MAX, 1 + len(candidates) // GIST_SENTENCES)
    best = sorted(candidates, key=lambda segment: (-specificity(segment.text), len(segment.text)))[:count]
    return [
        _claim(ClaimKind.EVENT, segment.text, item, segment, WEIGHTS["gist"])
        for segment in best
        if specificity(segment.text) >= GIST_MIN_SPECIFICITY
    ]


def _gist_eligible(segment: Segment) -> bool:
    words = len(segment.text.split())
    return (
        GIST_MIN_WORDS <= words <= GIST_MAX_WORDS
        and not segment.lower.rstrip().endswith("?")
        and not BOILERPLATE.search(segment.lower)
        and not HEADER_RESIDUE.search(segment.text)
        and not SIGN_OFF.search(segment.text)
        and not CONTACT_LINE.search(segment.text)
    )


def specificity(text: str) -> int:
    """How much a sentence names: capitalized words after its first, tokens with digits, long words."""
    tokens = text.split()
    named = sum(1 for token in tokens[1:] if token[:1].isupper() and WORD.match(token))
    figures = sum(1 for token in tokens if any(char.isdigit() for char in token))
    long_words = sum(1 for token in tokens if len(token.strip(".,;:!?()\"'")) >= GIST_LONG_WORD)
    return 2 * named + 2 * figures + long_words


def author_claim(item: SourceItem) -> Claim | None:
    """The author of an e-mail or chat as a person, when the source names them ("Anna Nowak", not an
    address or a handle); a signature or introduction with their role supersedes it (``merge``)."""
    name = flatten(item.author or "")
    if item.channel not in ("email", "chat") or not NAME_LINE.match(name):
        return None
    return Claim(
        kind=ClaimKind.PERSON,
        text=name,
        date=item.occurred_at.date(),
        weight=WEIGHTS["author"],
        owner=name,
        owner_side=item_side(item),
        topic=f"person:{name.casefold()}",
        sources=[Citation(interaction_id=item.interaction_id)],
    )


def thread_claim(item: SourceItem) -> Claim | None:
    """What an e-mail thread is about: its subject without "Re:"/"Fwd:", once per thread (``merge`` keeps
    the first message and cites the later ones)."""
    subject = SUBJECT_PREFIX.sub("", flatten(item.subject or ""))
    if len(subject.split()) < MIN_WORDS:
        return None
    return _claim(ClaimKind.EVENT, subject, item, None, WEIGHTS["thread"], topic=f"thread:{subject.casefold()}")


def first_contact_claim(item: SourceItem) -> Claim | None:
    """The earliest item's subject (or its first real sentence) as the first-contact event."""
    text = SUBJECT_PREFIX.sub("", flatten(item.subject or "")) or next(
        (segment.text for segment in segments(item) if len(segment.text.split()) >= FIRST_CONTACT_MIN_WORDS), None
    )
    if not text:
        return None
    return _claim(ClaimKind.EVENT, text, item, None, WEIGHTS["first_contact"], topic="first:contact")


# ------------------------------------------------------------------ tone


def is_client_message(item: SourceItem) -> bool:
    """A message the client wrote: inbound e-mail or chat."""
    return item.direction == "inbound" and item.channel in lex.DRY_REPLY_WORDS


def tone_score(text: str) -> float:
    """Lexicon tone of ``text``: (positive - negative) / hits, 0 when no word of either kind."""
    lower = text.lower()
    positive = len(TONE_POSITIVE.findall(lower))
    negative = len(TONE_NEGATIVE.findall(lower))
    return (positive - negative) / (positive + negative) if positive + negative else 0.0


def reply_claim(item: SourceItem) -> Claim | None:
    """Evidence for the cooling-tone check: a client's warm reply (long or friendly), or a short, dry one."""
    if not is_client_message(item):
        return None
    text = flatten(item.text)
    words = len(text.split())
    friendly = TONE_POSITIVE.search(text.lower())
    if words >= lex.WARM_REPLY_WORDS[item.channel] or friendly:
        topic, quoted = TONE_WARM, sentences(item.text)[0]
    elif 0 < words <= lex.DRY_REPLY_WORDS[item.channel] and len(text) <= MAX_SENTENCE_CHARS and "?" not in text:
        topic, quoted = TONE_COOLING, text
    else:
        return None
    return _claim(ClaimKind.RISK, quoted, item, None, EVIDENCE_WEIGHT, topic=topic)


def month_tone(items: Iterable[SourceItem]) -> dict[str, float]:
    """Mean tone of the client's messages per ISO month ("2026-03")."""
    totals: dict[str, list[float]] = {}
    for item in items:
        if is_client_message(item):
            totals.setdefault(month_key(item.occurred_at), []).append(tone_score(item.text))
    return {month: round(sum(scores) / len(scores), 3) for month, scores in sorted(totals.items())}


# ------------------------------------------------------------------ notes


def notes_for(items: list[SourceItem], rules: Rules = DEFAULT_RULES, budget_tokens: int | None = None) -> Notes:
    """The notes of one chunk: every item's claims, consolidated (and fitted to ``budget_tokens`` when
    given), with counts, span and tone."""
    if not items:
        return Notes()
    items = sorted(items, key=lambda item: (item.occurred_at, item.interaction_id))
    groups = [extract(item, rules) for item in items]
    groups[0] += filter(None, [first_contact_claim(items[0])])
    last_at = items[-1].occurred_at
    return Notes(
        claims=consolidate(groups, last_at.date(), budget_tokens),
        interactions=len(items),
        first_at=items[0].occurred_at,
        last_at=last_at,
        channels=dict(sorted(Counter(item.channel for item in items).items())),
        tone=month_tone(items),
    )
