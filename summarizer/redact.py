"""Personal data a brief does not need, replaced by typed placeholders before any engine sees text.

One precompiled alternation finds candidates in a single pass: keyword-anchored values (passport and ID
numbers, home addresses, diagnoses, CVV codes), street addresses, IBANs, phone numbers (kept as written)
and runs of digits. A run of digits, labelled ("PESEL", "ИНН", "NIP" …) or bare, is read as whole groups
(what the separators delimit) from the left: python-stdnum's checksum validators decide what is an
identifier, and a bare number must also be written the way that identifier is (a card in fours, a NIP
as 3-3-2-2), so phone numbers, amounts, dates and order numbers pass through unchanged. A card's expiry
date next to a redacted card goes too.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from stdnum import iban, luhn
from stdnum.pl import nip, pesel, regon
from stdnum.ru import inn

_UPPER = "A-ZĄĆĘŁŃÓŚŹŻА-ЯЁ"
# Between a keyword and its value: punctuation and words such as "no.", "nr", "номер", "серия".
_FILLER = r"(?i:[\s:#№.,-]|\b(?:no|nr|number|numer|номер|серия|seria|series|i|и|and|of)\b){0,12}"
_CAP_WORDS = rf"[{_UPPER}0-9][\w.-]*(?:\s[{_UPPER}][\w.-]*){{0,3}}"
# The only field whose value need not contain a digit: text with neither is returned as it is.
_HEALTH_KEYWORDS = r"(?i:diagnosed\s+with|medical\s+condition|диагноз|zdiagnozowano(?:\s+u\s+\w+)?|choruje\s+na)"
_ABBREVIATION = r"\b(?:ul|al|pl|os|m|lok|nr|St|Ave|Rd|Apt|ул|д|кв|корп|стр|пр|г|обл|пер|просп)\."
_SEPARATOR = r"[ .\-\u00a0]"  # what people put between the digit groups of a number
_DIGIT_RUN = rf"\d(?:{_SEPARATOR}?\d){{8,29}}(?!\w|[.,-]\d)"
_CARD = "[card]"


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def _always(_value: str) -> bool:
    return True


def _never(_value: str) -> bool:
    return False


def _has_digit(value: str) -> bool:
    return any(char.isdigit() for char in value)


def is_valid_snils(number: str) -> bool:
    """SNILS checksum as published by the Russian Pension Fund (python-stdnum has no module).

    The first nine digits weighted 9 down to 1 and summed, the sum modulo 101, a remainder of 100 read as
    00, must equal the last two digits.
    """
    digits = _digits(number)
    if len(digits) != 11:
        return False
    if int(digits[:9]) <= 1001998:
        return False  # numbers up to 001-001-998 were issued without a checksum
    total = sum(int(digit) * weight for digit, weight in zip(digits[:9], range(9, 0, -1), strict=True))
    check = total % 101 % 100
    return check == int(digits[9:])


def is_plausible_pesel(number: str) -> bool:
    """A valid PESEL of someone born since 1900 and not in the future (11-digit phones often pass the checksum)."""
    digits = _digits(number)
    return pesel.is_valid(digits) and date(1900, 1, 1) <= pesel.get_birth_date(digits) <= date.today()


def _is_card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn.is_valid(digits)


def _is_polish_account(digits: str) -> bool:
    return len(digits) == 26 and iban.is_valid("PL" + digits)


def _is_russian_mobile(digits: str) -> bool:
    """A Russian mobile number written without its +7: 9 and nine digits, or 79 / 89 and nine digits."""
    return (len(digits) == 10 and digits[0] == "9") or (len(digits) == 11 and digits[:2] in ("79", "89"))


@dataclass(frozen=True, slots=True)
class _Number:
    """A checksummed identifier: its placeholder, its check (on the digits), the layouts it is recognized
    in without a label (a regex on group lengths and separators: ``4 4 4 4``, ``3-3-2-2``), and its labels."""

    placeholder: str
    is_valid: Callable[[str], bool]
    layouts: str
    keyword: str = ""

    def fits_bare(self, layout: str, digits: str) -> bool:
        """Written as this identifier is, its check passing, and not a Russian mobile number."""
        return bool(re.fullmatch(self.layouts, layout)) and self.is_valid(digits) and not _is_russian_mobile(digits)


_NUMBERS = (
    _Number("[bank account]", _is_polish_account, r"26|2( 4){6}"),
    _Number(_CARD, _is_card, r"1[3-9]|4(?:[ .-]4){2}[ .-][1-4]|4(?:[ .-]4){3}[ .-][1-3]|4[ .-]6[ .-][45]"),
    _Number("[pesel]", is_plausible_pesel, r"11", r"(?i:pesel)"),
    _Number("[snils]", is_valid_snils, r"3[ -]3[ -]3[ -]2|11", r"СНИЛС|снилс|SNILS"),
    _Number("[nip]", nip.is_valid, r"3-3-2-2|3-2-2-3|10", r"(?i:nip)"),
    _Number("[inn]", inn.is_valid, r"10|12", r"ИНН|инн|INN"),
    _Number("[regon]", regon.is_valid, r"14", r"(?i:regon)"),
)
_GROUP = re.compile(r"\d+")


def _identify(number: str, label: _Number | None) -> str | None:
    """The placeholder of what ``number`` is: the ``label``'s kind in any layout, else a bare identifier."""
    digits = _digits(number)
    if label is not None:
        return label.placeholder if label.is_valid(digits) else None
    layout = _GROUP.sub(lambda group: str(len(group.group())), number).replace("\u00a0", " ")
    return next((kind.placeholder for kind in _NUMBERS if kind.fits_bare(layout, digits)), None)


def _longest_identifier(run: str, groups: list[re.Match[str]], label: _Number | None) -> tuple[int, str] | None:
    """(number of groups, placeholder) of the longest identifier made of the first of ``groups``, if any."""
    for count in range(len(groups), 0, -1):
        if placeholder := _identify(run[groups[0].start() : groups[count - 1].end()], label):
            return count, placeholder
    return None


def _redact_numbers(run: str, label: _Number | None = None) -> str:
    """``run`` with the identifiers it starts with replaced, each the longest that validates; the rest kept."""
    groups = list(_GROUP.finditer(run))
    pieces, copied, first = [], 0, 0
    while first < len(groups) and (found := _longest_identifier(run, groups[first:], label)):
        count, placeholder = found
        pieces += [run[copied : groups[first].start()], placeholder]
        copied, first = groups[first + count - 1].end(), first + count
    return "".join(pieces) + run[copied:]


def _label(keyword: str) -> _Number:
    return next(kind for kind in _NUMBERS if kind.keyword and re.match(kind.keyword, keyword))


@dataclass(frozen=True, slots=True)
class _Field:
    """A kind of personal data: a keyword (kept in the text) before a value that gets replaced."""

    name: str
    placeholder: str
    value: str
    keyword: str = ""
    is_valid: Callable[[str], bool] = _always  # a field never valid keeps what it matched, as written
    first: str = r"[^\W\d_]"  # what the match starts with: a letter, a digit or a plus
    reads_numbers: bool = False  # the value is a digit run read by _redact_numbers


_PHONE = r"\(?\+?\d(?:[ ().\-\u00a0]{0,3}\d){5,14}(?!\d)"
_FIELDS = (
    _Field(
        "number_kw", "", _DIGIT_RUN, "|".join(kind.keyword for kind in _NUMBERS if kind.keyword), reads_numbers=True
    ),
    _Field(
        "phone_kw",
        "",
        _PHONE,
        r"(?i:tel|тел|телефон[а-я]*|phone|telefon[a-z]*|mobile|mob|моб|kom|komórk[a-z]*|сотов[а-я]*|whatsapp)",
        _never,
    ),
    _Field("cvv", "[cvv]", r"\d{3,4}\b", r"(?i:(?:cvv2?|cvc2?)(?:/(?:cvv2?|cvc2?))?(?:\s+(?:code|kod|код))?|csc)"),
    _Field(
        "passport",
        "[passport]",
        r"[A-ZА-Я]{0,3}[ -]?\d(?:[ -]?\d){3,11}(?:\s*(?:номер|№|nr\.?|no\.?)\s*\d{6})?",
        r"(?i:passport|паспорт[а-я]*|paszport[a-z]*|серия)",
    ),
    _Field(
        "id_number",
        "[id number]",
        r"[A-ZА-Я]{0,3}[ -]?\d(?:[ -]?\d){4,11}",
        r"(?i:dow[oó]d(?:u|em)?\s+osobist[a-z]*|nr\s+dowodu|id\s+card|identity\s+card|id\s+number|"
        r"national\s+id|personal\s+id|удостоверени[а-я]*\s+личности)",
    ),
    _Field(
        "address_kw",
        "[address]",
        rf"(?:{_ABBREVIATION}|[^\n.;]){{4,120}}",
        r"(?i:home\s+address|residential\s+address|adres\s+zamieszkania|adres\s+domowy|mieszka\s+(?:przy|na)|"
        r"домашний\s+адрес|адрес\s+проживания|адрес\s+регистрации|проживает\s+по\s+адресу)",
        _has_digit,
    ),
    _Field("health", "[health]", r"[^\n.,;!?]{3,60}", _HEALTH_KEYWORDS),
    _Field(
        "street_pl",
        "[address]",
        rf"\b(?:ul|al|os|pl)\.\s?{_CAP_WORDS}\s\d+[A-Za-z]?"
        r"(?:\s?/\s?\d+[A-Za-z]?|\s?(?:m|lok)\.\s?\d+)?(?:,?\s\d{2}-\d{3}(?:\s[\w-]+)?)?",
    ),
    _Field(
        "street_ru",
        "[address]",
        r"(?:\b(?:улица|проспект|переулок|бульвар|шоссе|набережная)\s|"
        r"\b(?:ул|пр|просп|пер|наб|пр-т|б-р)\.?\s?)"
        rf"{_CAP_WORDS},?\s(?:(?:д\.|дом)\s?)?\d+[а-яА-Я]?"
        r"(?:,?\s?(?:корп\.|к\.|стр\.|корпус|строение)\s?\d+)?(?:,?\s?(?:кв\.|квартира)\s?\d+)?",
    ),
    _Field(
        "street_en",
        "[address]",
        r"\d{1,5}\s(?:[A-Z][a-z]+\s){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|"
        r"Boulevard|Blvd|Drive|Dr|Court|Ct|Place|Way|Terrace|Close)\b\.?"
        r"(?:,?\s(?:Apt|Apartment|Suite|Unit|Flat)\.?\s?#?\w+)?",
        first=r"\d",
    ),
    _Field(
        "vat_pl",
        "[nip]",
        rf"PL ?\d(?:{_SEPARATOR}?\d){{9}}(?!\w|{_SEPARATOR}?\d)",
        is_valid=lambda value: nip.is_valid(_digits(value)),
    ),
    _Field(
        "iban", "[iban]", r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,3})?\b", is_valid=iban.is_valid
    ),
    _Field("phone", "", _PHONE, is_valid=_never, first=r"\+"),  # +48 600 123 456, +7 (916) 123-45-67
    _Field("numbers", "", rf"(?<![+#/.,-]){_DIGIT_RUN}", first=r"\d", reads_numbers=True),
)


def _alternative(field: _Field) -> str:
    keyword = f"(?P<{field.name}_kw>(?:{field.keyword})\\b{_FILLER})" if field.keyword else ""
    return f"(?P<{field.name}>{keyword}(?P<{field.name}_value>{field.value}))"


def _compile() -> re.Pattern[str]:
    """One alternation tried only at word starts, dispatched on the first character: digit, plus or letter."""
    starts = dict.fromkeys(field.first for field in _FIELDS)
    branches = (
        "(?={})(?:{})".format(first, "|".join(_alternative(f) for f in _FIELDS if f.first == first)) for first in starts
    )
    return re.compile(rf"(?<!\w)(?:{'|'.join(branches)})")


_PATTERN = _compile()
_WORTH_A_LOOK = re.compile(rf"\d|{_HEALTH_KEYWORDS}")
_BY_NAME = {field.name: field for field in _FIELDS}

# A card's expiry date (MM/YY, MM/YYYY) within a few words of the card: same sentence, next line at most.
_MONTH_YEAR = r"(?<![\d/.])(?:0?[1-9]|1[0-2]) ?/ ?(?:\d{2}|20\d{2})(?![\d/])"
_NEAR = r"(?:[^\n.!?\[\]]|\n(?!\s*\n)|\.(?!\s)|\.(?=\s+[a-zа-яёąćęłńóśźż\d])|\[cvv\]){0,40}?"
_CARD_EXPIRY = re.compile(
    rf"(?P<after>\[card\]{_NEAR})(?P<expiry>{_MONTH_YEAR})|"
    rf"(?P<expiry_first>{_MONTH_YEAR})(?P<before>{_NEAR}\[card\])"
)


def _replace(match: re.Match[str]) -> str:
    assert match.lastgroup is not None  # every alternative of _PATTERN is a named group
    field = _BY_NAME[match.lastgroup]
    value = match.group(f"{field.name}_value")
    keyword = match.group(f"{field.name}_kw") if field.keyword else ""
    if field.reads_numbers:
        return keyword + _redact_numbers(value, _label(keyword) if keyword else None)
    if not field.is_valid(value):
        return match.group()
    return keyword + field.placeholder


def _redact_card_expiry(text: str) -> str:
    """``text`` with each expiry date next to a redacted card replaced."""
    return _CARD_EXPIRY.sub(
        lambda m: f"{m['after']}[card expiry]" if m["after"] is not None else f"[card expiry]{m['before']}", text
    )


def redact(text: str) -> str:
    """``text`` with card numbers and expiry dates, CVV codes, bank, ID and tax numbers, home addresses and
    diagnoses replaced by placeholders; phone numbers, amounts, dates and order numbers kept."""
    if not _WORTH_A_LOOK.search(text):
        return text
    redacted = _PATTERN.sub(_replace, text)
    return _redact_card_expiry(redacted) if _CARD in redacted else redacted
