"""The grounding check: every number, amount, date, phone, e-mail and name a claim states must occur
in the interactions it cites, and no claim may be steering language (text addressing the summarizer,
see ``summarizer.steering``). Claims that fail are dropped and returned so the caller can count them.

The sentences a model wrote (``Notes.brief``) pass the same checks, and one more: most of a sentence's
content words must occur in its sources, where sentence and sources are in the same script (a summary may
translate). Small models invent whole clauses that state no number or name ("a successful flight").

Numbers compare as digits without separators (a phone may differ in its country or trunk prefix),
dates in any of several written forms or as a relative expression ("by Friday", "завтра") resolved
against the cited interaction's own date, names case-folded with a little room for inflection.
"""

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from summarizer.dates import DateKey, date_found, is_date_word, read_dates, written_dates
from summarizer.extract import REQUEST, sentences
from summarizer.notes import Claim, ClaimKind, Notes, Sentence, SourceItem, is_steering_risk
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
_WORD = re.compile(r"\w+")
CONTENT_WORD_LETTERS = 4  # shorter words carry too little to tell a sentence's sources apart
STEM_LETTERS = 5  # content words compare on their first letters: "delayed" finds "delay", "насосов" "насосы"
SETTLED_KINDS = frozenset({ClaimKind.AGREEMENT, ClaimKind.PURCHASE})  # their figures must not be only asked for
MIN_BRIEF_SENTENCES = 2  # fewer written sentences surviving the check are no brief: the framed one renders

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
# Words of four letters or more that say nothing a source must hold (the content-word rule skips them).
_FUNCTION_WORDS = _STOP_WORDS | frozenset(
    """
about above after again against also although among another around because been before being below between
both could does doing down during each either even every from further have having here into itself just least
less many more most much must neither never none only other over same several shall should since some such than
that them then there these they this those though through thus till under unless until upon very were what when
where whether which while whom whose will with within without would asked asks said says told wrote writes
mentioned noted
который которая которое которые которых этот этого этой этих того тому также чтобы когда если только более после
перед через между потому поэтому очень было были была будет будут быть есть может можно нужно свой своя свои
своих всех весь всего себя себе тоже даже него нами вами ними наши нашей нашего ваши
który która które których jest było była były będzie będą oraz także przez jako żeby tego jego może można bardzo
przed między kiedy gdzie tylko jeszcze przy jednak więc nasz nasze naszej wasze swoje sobie
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
    """The notes with ungrounded claims and sentences removed, and what was removed."""

    notes: Notes
    dropped: list[Claim] = field(default_factory=list)
    dropped_sentences: list[Sentence] = field(default_factory=list)

    @property
    def ungrounded(self) -> int:
        """How many claims and sentences the check dropped."""
        return len(self.dropped) + len(self.dropped_sentences)


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


def check_grounding(notes: Notes, source_texts: dict[int, str], *, client: str = "") -> GroundingResult:
    """Keep the claims and written sentences whose facts all occur in the interactions they cite and that
    do not address the summarizer; drop the others. A sentence also needs most of its content words in
    its sources (same script only), and fewer than ``MIN_BRIEF_SENTENCES`` kept sentences keep none.

    ``source_texts`` maps interaction ids to their text, best as given by ``grounding_text`` so the
    header carries the interaction's date. A claim or sentence citing an interaction not in it is dropped.
    ``client`` is the name the writer was given: a sentence may name the client without a source.
    """
    citations = [*(c for claim in notes.claims for c in claim.sources), *(c for s in notes.brief for c in s.sources)]
    cited_ids = {citation.interaction_id for citation in citations}
    facts = {i: _source_facts(source_texts[i]) for i in cited_ids if i in source_texts}
    kept: list[Claim] = []
    dropped: list[Claim] = []
    for claim in notes.claims:
        cited = [facts[citation.interaction_id] for citation in claim.sources if citation.interaction_id in facts]
        grounded = len(cited) == len(claim.sources) and _is_grounded(claim, cited) and not _steers(claim)
        if grounded and claim.kind in SETTLED_KINDS:
            grounded = not _only_asked(claim, [source_texts[c.interaction_id] for c in claim.sources])
        (kept if grounded else dropped).append(claim)
    brief, dropped_sentences = _checked_brief(notes.brief, facts, client)
    return GroundingResult(notes.model_copy(update={"claims": kept, "brief": brief}), dropped, dropped_sentences)


def _checked_brief(
    brief: list[Sentence], facts: dict[int, _SourceFacts], client: str
) -> tuple[list[Sentence], list[Sentence]]:
    """The written sentences that are grounded (none when fewer than ``MIN_BRIEF_SENTENCES``), and the dropped."""
    kept: list[Sentence] = []
    dropped: list[Sentence] = []
    for sentence in brief:
        cited = [facts[citation.interaction_id] for citation in sentence.sources if citation.interaction_id in facts]
        grounded = len(cited) == len(sentence.sources) and _sentence_grounded(sentence.text, cited, client)
        (kept if grounded else dropped).append(sentence)
    return (kept if len(kept) >= MIN_BRIEF_SENTENCES else []), dropped


def _sentence_grounded(text: str, sources: list[_SourceFacts], client: str) -> bool:
    """Whether a written sentence states only facts of ``sources``, carries their content, and does not
    address the summarizer; the ``client``'s name counts as known."""
    if is_steering(text):
        return False
    given = frozenset(word.casefold() for word in _WORD.findall(client))
    if client:
        text = re.sub(re.escape(client), " ", text, flags=re.IGNORECASE)
    return _text_grounded(text, _pooled(sources), given=given) and _content_grounded(text, sources, given)


def _only_asked(claim: Claim, texts: list[str]) -> bool:
    """Whether an agreement or purchase states as settled what its sources only ask for: each of its figures
    occurs only after a request or in a question ("Please add the 10% discount" is no agreed discount). A claim
    that words the request itself is not asked: it says what its source says."""
    if _asks(claim.text):
        return False
    numbers = _numbers(_MARKUP.sub(" ", claim.text))
    said = [sentence for text in texts for sentence in sentences(_body(text), clauses=False)]
    for number in numbers:
        for sentence in said:
            found = _number_at(number, sentence)
            if found is not None and not _asks(sentence, found):
                return False
    return bool(numbers)


def _asks(sentence: str, at: int | None = None) -> bool:
    """Whether ``sentence`` is a question, or (up to position ``at``) a request."""
    request = REQUEST.search(sentence.lower())
    return sentence.rstrip().endswith("?") or (request is not None and (at is None or request.start() < at))


def _number_at(number: str, sentence: str) -> int | None:
    """Where ``sentence`` states ``number``, None if it does not."""
    for match in _NUMBER.finditer(sentence):
        if _number_grounded(number, _number_keys(match.group())):
            return match.start()
    return None


def _steers(claim: Claim) -> bool:
    """Whether a claim's own text addresses the summarizer (an engine that repeated an instruction)."""
    return not is_steering_risk(claim) and is_steering(claim.text)


def _is_grounded(claim: Claim, sources: list[_SourceFacts]) -> bool:
    """Whether every checkable fact of ``claim`` occurs in ``sources``."""
    pooled = _pooled(sources)
    field_dates = [frozenset({(day.year, day.month, day.day)}) for day in (claim.date, claim.due) if day]
    return _text_grounded(claim.text, pooled, field_dates=field_dates) and all(
        _name_grounded(name, pooled.folded, pooled.latin)
        for name in _names(claim.owner or "", skip_sentence_starts=False)
    )


def _text_grounded(
    text: str,
    facts: _SourceFacts,
    *,
    field_dates: Iterable[frozenset[DateKey]] = (),
    given: frozenset[str] = frozenset(),
) -> bool:
    """Whether the e-mails, dates (with ``field_dates``), numbers and names ``text`` states occur in ``facts``;
    names in ``given`` need no source."""
    text = _MARKUP.sub(" ", text)
    text, emails = _take(_EMAIL, text)
    text, text_dates = _take_dates(text)
    names = [name for name in _names(text, skip_sentence_starts=True) if name.casefold() not in given]
    return (
        all(email.casefold() in facts.folded for email in emails)
        and all(date_found(keys, facts.dates) for keys in [*text_dates, *field_dates])
        and all(_number_grounded(number, facts.numbers) for number in _numbers(text))
        and all(_name_grounded(name, facts.folded, facts.latin) for name in names)
    )


def _pooled(sources: list[_SourceFacts]) -> _SourceFacts:
    """What the cited ``sources`` ground together."""
    return _SourceFacts(
        "\n".join(source.folded for source in sources),
        "\n".join(source.latin for source in sources),
        set().union(*(source.numbers for source in sources)),
        set().union(*(source.dates for source in sources)),
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


# --- content words -------------------------------------------------------------------------------


def writing_script(text: str) -> str | None:
    """The writing system most of ``text``'s letters belong to ("LATIN", "CYRILLIC"), None without letters."""
    counts = Counter(unicodedata.name(char, "?").split(" ", 1)[0] for char in text if char.isalpha())
    return counts.most_common(1)[0][0] if counts else None


def _message_script(text: str) -> str | None:
    """The script of a source's own text: its header is in Latin letters whatever the message's language."""
    return writing_script(_body(text))


def _body(text: str) -> str:
    """A source's own text, without the header ``grounding_text`` gives it (its date and channel)."""
    return text.split("\n", 1)[-1] if _HEADER_DATE.match(text) else text


def _content_words(text: str, given: frozenset[str]) -> list[str]:
    """Case-folded letters-only words of ``CONTENT_WORD_LETTERS`` or more that are not function words, date
    words or in ``given``."""
    words = (word for word in _WORD.findall(text.casefold()) if word.isalpha() and len(word) >= CONTENT_WORD_LETTERS)
    return [word for word in words if word not in _FUNCTION_WORDS and word not in given and not is_date_word(word)]


def _stems(text: str) -> set[str]:
    """The first four and ``STEM_LETTERS`` letters of every word of ``text`` (case-folded)."""
    words = [word for word in _WORD.findall(text) if word.isalpha()]
    return {word[:size] for word in words for size in (CONTENT_WORD_LETTERS, STEM_LETTERS)}


def _content_grounded(text: str, sources: list[_SourceFacts], given: frozenset[str]) -> bool:
    """Whether at least half of ``text``'s content words start like a word of ``sources``; always true when
    a cited source is in another script than the sentence (a translation), or there are no content words."""
    text = _EMAIL.sub(" ", _MARKUP.sub(" ", text))
    script = writing_script(text)
    words = _content_words(text, given)
    if not words or any(_message_script(source.folded) != script for source in sources):
        return True
    known = set().union(*(_stems(source.folded) for source in sources))
    found = sum(word[:STEM_LETTERS] in known for word in words)
    return 2 * found >= len(words)


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
