"""The grounding check: every number, amount, date, phone, e-mail and name a claim states must occur
in the interactions it cites, and no claim may be steering language (text addressing the summarizer,
see ``summarizer.steering``). Claims that fail are dropped and returned so the caller can count them.

Numbers compare as digits without separators (a phone may differ in its country or trunk prefix),
dates in any of several written forms or as a relative expression ("by Friday", "завтра") resolved
against the cited interaction's own date, names case-folded with a little room for inflection.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from summarizer.dates import DateKey, date_found, is_date_word, read_dates, written_dates
from summarizer.notes import Claim, Notes, SourceItem, is_steering_risk
from summarizer.sources import format_source
from summarizer.steering import is_steering

_HEADER_DATE = re.compile(r"\A\[#\d+\]\s+(\d{4})-(\d{2})-(\d{2})")
_MARKUP = re.compile(r"\[#\d+[^\]]*\]|\[[a-z ]+\]")  # citation markers and redaction placeholders
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"\d+(?:(?:[.,/\u00a0\u202f -]|\) ?| ?\()\d+)*")
_ZERO_DECIMALS = re.compile(r"[.,]0{1,2}$")
_NAME = re.compile(r"(?<![\w-])[A-ZА-ЯЁĄĆĘŁŃÓŚŹŻ][\w'’-]*")
_OPENERS = " \t\"'«“„(*•-–—"
_PHONE_DIGITS = 9  # numbers this long compare on their last digits: +48 600 123 456 is 600 123 456

_CURRENCIES = {
    "pln": ("pln", "zł", "zl", "złot"),
    "rub": ("rub", "руб", "₽"),
    "usd": ("usd", "$", "dollar", "доллар"),
    "eur": ("eur", "€", "euro", "евро"),
    "руб": ("rub", "руб", "₽"),
    "zł": ("pln", "zł", "złot"),
}
_STOP_WORDS = frozenset(
    """
the a an i we you they he she it our your their his her this that these those and or but if as at by for from
in of on to with not no yes ok okay please thanks thank hello hi dear regards best re fw fwd subject
client customer company manager team sales support mr mrs ms dr ceo cfo cto coo vat
я мы вы вам вас ваш ваша ваше ваши вашего вашей он она они оно это этот эта и а но в во на с со по к от до
для о об за из клиент клиента компания менеджер уважаемый уважаемая здравствуйте добрый спасибо
господин госпожа ооо оао зао ао ип ндс
ja my wy on ona oni ono to ten ta i a ale w we na z ze do od dla o po za pan pani panu panią panie państwo państwa
państwu szanowny szanowna szanowni dzień dobry dziękuję dziękujemy pozdrawiam klient klienta firma sp
""".split()
)
_TRAILING_WORD = re.compile(r"[\w-]*$")
_TITLES = frozenset({"mr", "mrs", "ms", "dr", "pan", "pani", "г-н", "г-жа"})
# Names are compared in Latin letters without diacritics, so "Ivanov" finds "Иванову" and "Wisniewski" "Wiśniewski".
_LATIN = str.maketrans(
    {
        **dict(zip("абвгдезийклмнопрстуфыэ", "abvgdeziyklmnoprstufye", strict=True)),
        "ё": "e",
        "ж": "zh",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "shch",
        "ъ": "",
        "ь": "",
        "ю": "yu",
        "я": "ya",
        **dict(zip("ąćęłńóśźż", "acelnoszz", strict=True)),
    }
)


@dataclass(slots=True)
class GroundingResult:
    """The notes with ungrounded claims removed, and the removed claims."""

    notes: Notes
    dropped: list[Claim] = field(default_factory=list)


@dataclass(slots=True)
class _SourceFacts:
    """What one interaction's text can ground."""

    folded: str
    latin: str  # folded and transliterated, for names
    numbers: set[str]
    dates: set[DateKey]


def grounding_text(item: SourceItem) -> str:
    """The text a claim citing ``item`` is checked against: header with its date, body, signature."""
    return f"{format_source(item)}\n{item.signature}" if item.signature else format_source(item)


def source_texts(items: Iterable[SourceItem]) -> dict[int, str]:
    """Each interaction's text for ``check_grounding`` (a split interaction's parts joined)."""
    texts: dict[int, str] = {}
    for item in items:
        text = grounding_text(item)
        texts[item.interaction_id] = f"{texts[item.interaction_id]}\n{text}" if item.interaction_id in texts else text
    return texts


def check_grounding(notes: Notes, source_texts: dict[int, str]) -> GroundingResult:
    """Keep the claims whose facts all occur in the interactions they cite and that do not address the
    summarizer; drop the others.

    ``source_texts`` maps interaction ids to their text, best as given by ``grounding_text`` so the
    header carries the interaction's date. A claim citing an interaction not in it is dropped.
    """
    cited_ids = {citation.interaction_id for claim in notes.claims for citation in claim.sources}
    facts = {i: _source_facts(source_texts[i]) for i in cited_ids if i in source_texts}
    kept: list[Claim] = []
    dropped: list[Claim] = []
    for claim in notes.claims:
        cited = [facts[citation.interaction_id] for citation in claim.sources if citation.interaction_id in facts]
        grounded = len(cited) == len(claim.sources) and _is_grounded(claim, cited) and not _steers(claim)
        (kept if grounded else dropped).append(claim)
    return GroundingResult(notes.model_copy(update={"claims": kept}), dropped)


def _steers(claim: Claim) -> bool:
    """Whether a claim's own text addresses the summarizer (an engine that repeated an instruction)."""
    return not is_steering_risk(claim) and is_steering(claim.text)


def _is_grounded(claim: Claim, sources: list[_SourceFacts]) -> bool:
    """Whether every checkable fact of ``claim`` occurs in ``sources``."""
    folded = "\n".join(source.folded for source in sources)
    latin = "\n".join(source.latin for source in sources)
    numbers = set().union(*(source.numbers for source in sources))
    dates = set().union(*(source.dates for source in sources))
    text = _MARKUP.sub(" ", claim.text)
    text, emails = _take(_EMAIL, text)
    text, text_dates = _take_dates(text)
    field_dates = [frozenset({(day.year, day.month, day.day)}) for day in (claim.date, claim.due) if day]
    return (
        all(email.casefold() in folded for email in emails)
        and all(date_found(keys, dates) for keys in text_dates + field_dates)
        and all(_number_grounded(number, numbers) for number in _numbers(text))
        and all(_name_grounded(name, folded, latin) for name in _names(text, skip_sentence_starts=True))
        and all(_name_grounded(name, folded, latin) for name in _names(claim.owner or "", skip_sentence_starts=False))
    )


def _source_facts(text: str) -> _SourceFacts:
    folded = text.casefold()
    header = _HEADER_DATE.match(text)
    dates = written_dates(text, date(*map(int, header.groups())) if header else None)
    numbers = {key for run in _NUMBER.findall(text) for key in _number_keys(run)}
    return _SourceFacts(folded, folded.translate(_LATIN), numbers, dates)


def _take(pattern: re.Pattern[str], text: str) -> tuple[str, list[str]]:
    """``text`` with the matches of ``pattern`` blanked out, and the matches."""
    found = pattern.findall(text)
    return pattern.sub(" ", text), found


def _take_dates(text: str) -> tuple[str, list[frozenset[DateKey]]]:
    """``text`` with the dates it states blanked out, and the dates (relative words state none here)."""
    mentions = [mention for mention in read_dates(text) if mention.keys]
    chars = list(text)
    for mention in mentions:
        chars[mention.start : mention.end] = " " * (mention.end - mention.start)
    return "".join(chars), [mention.keys for mention in mentions]


# --- numbers -------------------------------------------------------------------------------------


def _groups(run: str) -> list[str]:
    return re.findall(r"\d+", _ZERO_DECIMALS.sub("", run))


def _number_keys(run: str) -> set[str]:
    """Every contiguous stretch of a source number's digit groups, joined: "1 250 000" gives "250000"."""
    keys = set()
    for groups in (re.findall(r"\d+", run), _groups(run)):
        count = len(groups)
        keys |= {"".join(groups[start:end]) for start in range(count) for end in range(start + 1, count + 1)}
    return keys


def _numbers(text: str) -> list[str]:
    return ["".join(_groups(run)) for run in _NUMBER.findall(text)]


def _number_grounded(number: str, numbers: set[str]) -> bool:
    """The digits occur as a source number; long (phone-like) ones may differ in their prefix."""
    if number in numbers:
        return True
    return len(number) >= _PHONE_DIGITS and any(_same_phone(number, known) for known in numbers)


def _same_phone(a: str, b: str) -> bool:
    """Two digit strings that agree on their last 9-10 digits (country and trunk prefixes differ)."""
    tail = min(len(a), len(b), 10)
    return tail >= _PHONE_DIGITS and a[-tail:] == b[-tail:]


# --- names ---------------------------------------------------------------------------------------


def _at_sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip(_OPENERS)
    if not before or before[-1] in "\n!?…:":
        return True
    if before[-1] != ".":
        return False
    word = _TRAILING_WORD.search(before[:-1])
    return word is None or word.group().casefold() not in _TITLES


def _is_common(word: str) -> bool:
    folded = word.casefold()
    return folded in _STOP_WORDS or is_date_word(folded)


def _names(text: str, *, skip_sentence_starts: bool) -> list[str]:
    """Capitalized tokens that are not common words (nor, optionally, the first word of a sentence)."""
    return [
        match.group()
        for match in _NAME.finditer(text)
        if not _is_common(match.group()) and not (skip_sentence_starts and _at_sentence_start(text, match.start()))
    ]


def _name_grounded(name: str, folded: str, latin: str) -> bool:
    """The name, or its stem (inflected forms: "Иванову", "Kowalskiego"), starts a word of the sources,
    compared in Latin letters; a currency code matches its symbols and names."""
    word = name.casefold().strip("'’-")
    if word in _CURRENCIES:
        return any(alias in folded for alias in _CURRENCIES[word])
    word = word.translate(_LATIN)
    stem = word[: max(len(word) - 3, min(len(word), 5))]
    return re.search(rf"(?<!\w){re.escape(stem)}", latin) is not None
