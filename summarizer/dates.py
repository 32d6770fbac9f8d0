"""Dates written in text, read once for extraction (a promise's due date) and grounding (is a claimed date in
its source): numeric ("15.04.2024", "2024-04-15", "04/05/24"), named months in English, Russian, Polish,
Ukrainian and German ("15 April", "5 марта", "do 5 maja", "15 березня", "5. März"), period ends ("by the end of
the week", "до конца месяца", "by the end of May", "in June"), relative words ("tomorrow", "через неделю",
"za 3 dni") and weekdays ("by Friday", "do piątku").

``read_dates`` gives each wording with every date it may mean (``keys``) and, given the day the text was
written, the one date a deadline in those words means (``due``), which is always among ``keys``: so every due
date extraction reads from a source is a date grounding finds in it. Text is data: it is only matched.
"""

import importlib
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

import dateparser

from storage.periods import next_month_start, week_start

DateKey = tuple[int | None, int, int]  # (year, or None when not written; month; day)

DATE_LANGUAGES = ("en", "ru", "pl")  # of the relative phrases dateparser resolves
MONTH_LANGUAGES = ("en", "ru", "pl", "uk", "de")  # whose month names dateparser's locale data lists
REFERENCE_MONDAY = datetime(2001, 1, 1)  # relative phrases are resolved once per weekday against it

# Inflected month forms beyond the ones dateparser's locale data lists (genitive, locative: "w marcu", "в мае").
MONTH_STEMS = (
    r"jan(?:uary)?|stycz\w*|январ\w*|січ(?:ень|ня|ні)|januar|jänner",
    r"feb(?:ruary)?|lut\w*|феврал\w*|лют(?:ий|ого|ому)|februar",
    r"mar(?:ch)?|marz\w*|marc\w*|март\w*|берез(?:ень|ня|ні)|märz|maerz",
    r"apr(?:il)?|kwie\w*|апрел\w*|квіт(?:ень|ня|ні)",
    r"may|maj[au]?|ма[йяе]|трав(?:ень|ня|ні)|mai",
    r"june?|czerw\w*|июн\w*|черв(?:ень|ня|ні)|juni",
    r"july?|lip(?:iec|ca|cu)|июл\w*|лип(?:ень|ня|ні)|juli",
    r"aug(?:ust)?|sierp\w*|август\w*|серп(?:ень|ня|ні)",
    r"sep(?:t|tember)?|wrze\w*|сентябр\w*|верес(?:ень|ня|ні)",
    r"oct(?:ober)?|październik\w*|paźdz\w*|октябр\w*|жовт(?:ень|ня|ні)|oktober",
    r"nov(?:ember)?|listopad\w*|ноябр\w*|листопад\w*",
    r"dec(?:ember)?|grud\w*|декабр\w*|груд(?:ень|ня|ні)|dezember",
)
# Weekday names, Monday first, in the forms used after "by" / "до" / "do" / "bis".
WEEKDAYS = (
    r"monday|понедельник\w*|poniedziałk\w*|poniedziałek|понеділ\w*|montag",
    r"tuesday|вторник\w*|wtork\w*|wtorek|вівтор\w*|dienstag",
    r"wednesday|сред[аеуы]|środ[aęy]|серед[аиуі]|mittwoch",
    r"thursday|четверг\w*|czwartk\w*|czwartek|четвер|donnerstag",
    r"friday|пятниц[аеуы]|piątk\w*|piątek|п['’ʼ]?ятниц\w*|freitag",
    r"saturday|суббот[аеуы]|sobot[aęy]|субот\w*|samstag|sonnabend",
    r"sunday|воскресень[еяю]|niedziel[aęi]|неділ\w*|sonntag",
)
# Relative phrases dateparser resolves against the day they were written.
RELATIVE = (
    r"\b(?:today|tomorrow|day after tomorrow|next week|this week|in \d+ days|in a week|in two weeks)\b",
    (
        r"\b(?:сегодня|послезавтра|завтра|(?:на )?следующ(?:ей|ую) недел[юе]|на этой неделе|через неделю|"
        r"через \d+ дн\w*)"
    ),
    r"\b(?:dzisiaj|dziś|pojutrze|jutro|(?:w )?przyszłym tygodniu|przyszły tydzień|w tym tygodniu|za \d+ dni)",
)
NEXT_WEEK = re.compile(r"next week|следующ(?:ей|ую) недел|przyszł(?:ym|y) ty")  # any day of next week
THIS_WEEK = re.compile(r"this week|этой неделе|tym tygodniu")  # any day of this week
# The end of the current week or month, said without naming either; the end of a named month; a month alone.
WEEK_END = r"\b(?:end of (?:the |this )?week|конц[аеу] (?:этой )?недели|(?:koniec|końca|końcu) (?:tego )?tygodnia)"
THIS_MONTH_END = (
    r"\b(?:end of (?:the |this )?month|конц[аеу] (?:этого )?месяца|"
    r"(?:koniec|końca|końcu) (?:tego )?miesiąca)"
)
MONTH_END = r"\b(?:end of|конц[ае]|końca|koniec)\s+(?:the\s+)?(?P<month>[^\W\d_]{3,12})"
MONTH_ALONE = r"\b(?:in|by|until|before|в|во|до|к|w|we|do|od|przed)\s+(?P<month>[^\W\d_]{3,12})\b"
#: Words before "may" that make it the month, not the English modal verb ("we may have dinner").
MAY_AS_MONTH_AFTER = frozenset({"in", "by", "until", "before", "end"})

_ISO = re.compile(r"\b(?P<y>\d{4})[-./](?P<m>\d{1,2})[-./](?P<d>\d{1,2})\b")
_NUMERIC = re.compile(r"\b(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})\b")
_DAY_MONTH = re.compile(
    r"\b(?P<d>\d{1,2})(?:st|nd|rd|th|-?го|-?е|\.)?\s+(?:of\s+)?(?P<month>[^\W\d_]{3,12})\.?"
    r"(?:,?\s+(?P<y>\d{4}))?\b"
)
_MONTH_DAY = re.compile(r"\b(?P<month>[^\W\d_]{3,12})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>\d{4}))?")
_WEEKDAY = re.compile("|".join(f"(?P<d{index}>\\b(?:{names})\\b)" for index, names in enumerate(WEEKDAYS)))
_WEEKDAY_WORDS = [re.compile(names) for names in WEEKDAYS]
_RELATIVE = re.compile("|".join(f"(?:{pattern})" for pattern in RELATIVE))
_MONTH_PATTERNS = [re.compile(stems) for stems in MONTH_STEMS]


class DateMention(NamedTuple):
    """A wording of ``text`` that names a date: its span, every date it may mean (empty when the wording is
    relative and the day it was written is unknown), and the date a deadline in these words means."""

    start: int
    end: int
    keys: frozenset[DateKey]
    due: date | None


class _Meaning(NamedTuple):
    keys: frozenset[DateKey]
    due: date | None


# --- words ---------------------------------------------------------------------------------------


def _locale_month_forms() -> dict[str, int]:
    """Month names of ``MONTH_LANGUAGES`` as dateparser's locale data lists them, without the abbreviations
    that begin a longer form ("лист" is also a letter, "sie" a pronoun): ``MONTH_STEMS`` has the ones kept."""
    names = (
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    )
    forms: dict[str, int] = {}
    for language in MONTH_LANGUAGES:
        info = importlib.import_module(f"dateparser.data.date_translation_data.{language}").info
        for number, name in enumerate(names, 1):
            written = {form.casefold() for form in info[name]}
            forms.update(
                {
                    form: number
                    for form in written
                    if len(form) >= 3 and not any(other != form and other.startswith(form) for other in written)
                }
            )
    return forms


_LOCALE_MONTHS = _locale_month_forms()


@lru_cache(maxsize=65536)
def month_number(word: str) -> int | None:
    """The month a word names ("March", "марта", "marca", "березня", "März"), else None."""
    folded = word.casefold().rstrip(".")
    known = _LOCALE_MONTHS.get(folded)
    if known:
        return known
    return next((number for number, pattern in enumerate(_MONTH_PATTERNS, 1) if pattern.fullmatch(folded)), None)


def is_date_word(word: str) -> bool:
    """Whether a word names a month or a weekday (so it is not a name)."""
    folded = word.casefold()
    return month_number(folded) is not None or any(pattern.fullmatch(folded) for pattern in _WEEKDAY_WORDS)


def is_relative_wording(wording: str) -> bool:
    """Whether a date wording means something only with the day it was written ("tomorrow", "Friday", "w piątek"):
    it names neither a number nor a month."""
    return not any(char.isdigit() for char in wording) and not any(
        month_number(word) for word in re.findall(r"[^\W\d_]+", wording.lower())
    )


@lru_cache(maxsize=1024)
def relative_offset(phrase: str, weekday: int) -> int | None:
    """Days from a moment on ``weekday`` to what ``phrase`` ("next week", "завтра") means then."""
    base = REFERENCE_MONDAY + timedelta(days=weekday)
    parsed = dateparser.parse(
        phrase, languages=list(DATE_LANGUAGES), settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future"}
    )
    return (parsed.date() - base.date()).days if parsed else None


# --- calendar ------------------------------------------------------------------------------------


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _key(year: int | None, month: int, day: int) -> DateKey | None:
    """A valid date key (a two-digit year taken as 20xx), else None."""
    if year is not None and year < 100:
        year += 2000
    return (year, month, day) if _valid(year or 2000, month, day) else None  # 2000 is a leap year


def _as_key(day: date) -> DateKey:
    return day.year, day.month, day.day


def _upcoming(month: int, day: int, year: int | None, base: date) -> date | None:
    """The date; without a year the first one on or after ``base`` (deadlines lie ahead)."""
    if year is not None:
        return _valid(year, month, day)
    found = _valid(base.year, month, day)
    return found if found is None or found >= base else _valid(base.year + 1, month, day)


def _month_end(month: int, base: date) -> date:
    """The last day of ``month``, this year or, once it has passed, next year."""
    year = base.year if month >= base.month else base.year + 1
    return next_month_start(date(year, month, 1)) - timedelta(days=1)


def _meaning(keys: set[DateKey | None], due: date | None) -> _Meaning | None:
    """What a wording means: its keys and its due date (always one of them); None if it names no valid date."""
    found = {key for key in keys if key is not None} | ({_as_key(due)} if due else set())
    return _Meaning(frozenset(found), due) if found else None


# --- readers: each reads one kind of wording, given the day it was written when known ---------------


def _iso(match: re.Match[str], written: date | None) -> _Meaning | None:
    year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
    return _meaning({_key(year, month, day)}, _valid(year, month, day))


def _numeric(match: re.Match[str], written: date | None) -> _Meaning | None:
    """Day first as a deadline; either order as a fact (04/05 is 4 May or April 5)."""
    a, b, year = int(match["a"]), int(match["b"]), int(match["y"])
    return _meaning({_key(year, b, a), _key(year, a, b)}, _valid(year + 2000 if year < 100 else year, b, a))


def _named(match: re.Match[str], written: date | None) -> _Meaning | None:
    month = month_number(match["month"])
    if month is None:
        return None
    year = int(match["y"]) if match["y"] else None
    key = _key(year, month, int(match["d"]))
    if key is None:
        return None
    return _meaning({key}, _upcoming(month, int(match["d"]), year, written) if written else None)


def _week_end(match: re.Match[str], written: date | None) -> _Meaning | None:
    """This week's Friday, or its Sunday once Friday has passed (either, as a fact)."""
    if written is None:
        return _Meaning(frozenset(), None)
    friday, sunday = (week_start(written) + timedelta(days=offset) for offset in (4, 6))
    return _meaning({_as_key(friday), _as_key(sunday)}, friday if written.weekday() <= 4 else sunday)


def _this_month_end(match: re.Match[str], written: date | None) -> _Meaning | None:
    return _meaning(set(), _month_end(written.month, written)) if written else _Meaning(frozenset(), None)


def _relative(match: re.Match[str], written: date | None) -> _Meaning | None:
    """What dateparser resolves the phrase to; "next week" and "this week" may also mean any day of that week."""
    if written is None:
        return _Meaning(frozenset(), None)
    offset = relative_offset(match.group(), written.weekday())
    due = written + timedelta(days=offset) if offset is not None else None
    monday = week_start(written)
    week = (
        monday + timedelta(days=7)
        if NEXT_WEEK.search(match.group())
        else monday
        if THIS_WEEK.search(match.group())
        else None
    )
    days = {_as_key(week + timedelta(days=offset)) for offset in range(7)} if week else set()
    return _meaning(set(days), due) or _Meaning(frozenset(), None)


def _weekday(match: re.Match[str], written: date | None) -> _Meaning | None:
    """The next such weekday after the day written (or the one after it, as a fact)."""
    if written is None:
        return _Meaning(frozenset(), None)
    ahead = (int(str(match.lastgroup)[1:]) - written.weekday()) % 7 or 7
    due = written + timedelta(days=ahead)
    return _meaning({_as_key(due + timedelta(days=7))}, due)


def _month(match: re.Match[str], written: date | None) -> _Meaning | None:
    """The end of a named month ("by the end of May", "in June"); "may" only after a word that makes it May."""
    word = match["month"]
    if word.casefold() == "may" and match[0].split()[0].casefold() not in MAY_AS_MONTH_AFTER:
        return None
    month = month_number(word)
    if month is None:
        return None
    return _meaning(set(), _month_end(month, written)) if written else _Meaning(frozenset(), None)


Reader = Callable[[re.Match[str], date | None], _Meaning | None]
# In the order a deadline is looked for: the first wording (of the first pattern) that gives one wins.
_READERS: tuple[tuple[re.Pattern[str], Reader], ...] = (
    (_ISO, _iso),
    (_NUMERIC, _numeric),
    (_DAY_MONTH, _named),
    (_MONTH_DAY, _named),
    (re.compile(WEEK_END), _week_end),
    (re.compile(THIS_MONTH_END), _this_month_end),
    (_RELATIVE, _relative),
    (_WEEKDAY, _weekday),
    (re.compile(MONTH_END), _month),
    (re.compile(MONTH_ALONE), _month),
)


# --- the readers' one entry --------------------------------------------------------------------------


#: Texts up to this long have their readings remembered: the grounding check reads the same sources at
#: every level of the tree (a bounded cache: at most ``CACHED_TEXTS`` such texts are kept).
CACHED_TEXT_CHARS = 20_000
CACHED_TEXTS = 4096


def read_dates(text: str, written: date | None = None) -> list[DateMention]:
    """Every wording of ``text`` that names a date, in the order a deadline is looked for (numeric, named,
    period ends, relative words, weekdays, months), each with what it may mean as of ``written``."""
    lower = text.lower()
    if len(lower) > CACHED_TEXT_CHARS:
        return list(_mentions(lower, written))
    return list(_remembered_mentions(lower, written))


@lru_cache(maxsize=CACHED_TEXTS)
def _remembered_mentions(lower: str, written: date | None) -> tuple[DateMention, ...]:
    return tuple(_mentions(lower, written))


def _mentions(lower: str, written: date | None) -> Iterator[DateMention]:
    for pattern, read in _READERS:
        for match in pattern.finditer(lower):
            meaning = read(match, written)
            if meaning is not None:
                yield DateMention(match.start(), match.end(), meaning.keys, meaning.due)


def due_date(text: str, base: datetime) -> date | None:
    """The first date a deadline in ``text`` names, resolved against the message time ``base``."""
    return next((mention.due for mention in read_dates(text, base.date()) if mention.due), None)


def due_wording(text: str) -> str | None:
    """The words of ``text`` that name a date, as written ("Friday", "by the end of May", "24 April"): what a
    summary shows for a due date instead of the date it resolves to, which the source may not contain."""
    mention = next(iter(read_dates(text)), None)
    if mention is None:
        return None
    if len(text.lower()) != len(text):
        return text.lower()[mention.start : mention.end].strip()
    return text[mention.start : mention.end].strip()


def date_found(keys: frozenset[DateKey] | set[DateKey], known: set[DateKey]) -> bool:
    """A date (one of ``keys``) is among ``known``; a year missing on either side matches any year."""
    return any(key == other or (key[1:] == other[1:] and None in (key[0], other[0])) for key in keys for other in known)


def written_dates(text: str, written: date | None) -> set[DateKey]:
    """Every date ``text`` written on ``written`` may mean, that day included when known."""
    found = {key for mention in read_dates(text, written) for key in mention.keys}
    return found | {_as_key(written)} if written else found
