"""Personal data a brief does not need, replaced by typed placeholders before any engine sees text.

One precompiled alternation finds candidates in a single pass: keyword-anchored values (NIP, INN,
SNILS, PESEL, passport and ID numbers, home addresses, diagnoses), street addresses, IBANs and bare
digit runs. Checksummed candidates are kept unless their validator (python-stdnum) accepts them, so
phone numbers, amounts, dates and order numbers pass through unchanged.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from stdnum import iban, luhn
from stdnum.pl import nip, pesel
from stdnum.ru import inn

REDACTION_VERSION = "1"

_UPPER = "A-ZĄĆĘŁŃÓŚŹŻА-ЯЁ"
# Between a keyword and its value: punctuation and words such as "no.", "nr", "номер", "серия".
_FILLER = r"(?i:[\s:#№.,-]|\b(?:no|nr|number|numer|номер|серия|seria|series|i|и|and|of)\b){0,12}"
_CAP_WORDS = rf"[{_UPPER}0-9][\w.-]*(?:\s[{_UPPER}][\w.-]*){{0,3}}"
# The only field whose value need not contain a digit: text with neither is returned as it is.
_HEALTH_KEYWORDS = r"(?i:diagnosed\s+with|medical\s+condition|диагноз|zdiagnozowano(?:\s+u\s+\w+)?|choruje\s+na)"
_ABBREVIATION = r"\b(?:ul|al|pl|os|m|lok|nr|St|Ave|Rd|Apt|ул|д|кв|корп|стр|пр|г|обл|пер|просп)\."


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def _always(_value: str) -> bool:
    return True


def _has_digit(value: str) -> bool:
    return any(char.isdigit() for char in value)


def is_valid_snils(number: str) -> bool:
    """SNILS checksum as published by the Russian Pension Fund (python-stdnum has no module)."""
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


def _on_digits(is_valid: Callable[[str], bool]) -> Callable[[str], bool]:
    """A validator applied to the digits of a value written with spaces or dashes."""
    return lambda value: is_valid(_digits(value))


@dataclass(frozen=True, slots=True)
class _Field:
    """A kind of personal data: a keyword (kept in the text) before a value that gets replaced."""

    name: str
    placeholder: str
    value: str
    keyword: str = ""
    is_valid: Callable[[str], bool] = _always
    digit_first: bool = False  # the match starts with a digit (no keyword)


_FIELDS = (
    _Field("pesel_kw", "[pesel]", r"\d{6}\s?\d{5}", r"(?i:pesel)", is_plausible_pesel),
    _Field("nip_kw", "[nip]", r"(?:PL\s?)?\d(?:[ -]?\d){9}", r"(?i:nip)", _on_digits(nip.is_valid)),
    _Field("inn_kw", "[inn]", r"\d{10}(?:\d{2})?", r"ИНН|инн|INN", _on_digits(inn.is_valid)),
    _Field("snils_kw", "[snils]", r"\d{3}[ -]?\d{3}[ -]?\d{3}[ -]?\d{2}", r"СНИЛС|снилс|SNILS", is_valid_snils),
    _Field("passport", "[passport]", r"[A-ZА-Я]{0,3}[ -]?\d(?:[ -]?\d){3,11}(?:\s*(?:номер|№|nr\.?|no\.?)\s*\d{6})?",
           r"(?i:passport|паспорт[а-я]*|paszport[a-z]*|серия)"),
    _Field("id_number", "[id number]", r"[A-ZА-Я]{0,3}[ -]?\d(?:[ -]?\d){4,11}",
           r"(?i:dow[oó]d(?:u|em)?\s+osobist[a-z]*|nr\s+dowodu|id\s+card|identity\s+card|id\s+number|"
           r"national\s+id|personal\s+id|удостоверени[а-я]*\s+личности)"),
    _Field("address_kw", "[address]", rf"(?:{_ABBREVIATION}|[^\n.;]){{4,120}}",
           r"(?i:home\s+address|residential\s+address|adres\s+zamieszkania|adres\s+domowy|mieszka\s+(?:przy|na)|"
           r"домашний\s+адрес|адрес\s+проживания|адрес\s+регистрации|проживает\s+по\s+адресу)", _has_digit),
    _Field("health", "[health]", r"[^\n.,;!?]{3,60}", _HEALTH_KEYWORDS),
    _Field("street_pl", "[address]", rf"\b(?:ul|al|os|pl)\.\s?{_CAP_WORDS}\s\d+[A-Za-z]?"
                                     r"(?:\s?/\s?\d+[A-Za-z]?|\s?(?:m|lok)\.\s?\d+)?(?:,?\s\d{2}-\d{3}(?:\s[\w-]+)?)?"),
    _Field("street_ru", "[address]", r"(?:\b(?:улица|проспект|переулок|бульвар|шоссе|набережная)\s|"
                                     r"\b(?:ул|пр|просп|пер|наб|пр-т|б-р)\.?\s?)"
                                     rf"{_CAP_WORDS},?\s(?:(?:д\.|дом)\s?)?\d+[а-яА-Я]?"
                                     r"(?:,?\s?(?:корп\.|к\.|стр\.|корпус|строение)\s?\d+)?(?:,?\s?(?:кв\.|квартира)\s?\d+)?"),
    _Field("street_en", "[address]", r"\d{1,5}\s(?:[A-Z][a-z]+\s){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|"
                                     r"Boulevard|Blvd|Drive|Dr|Court|Ct|Place|Way|Terrace|Close)\b\.?"
                                     r"(?:,?\s(?:Apt|Apartment|Suite|Unit|Flat)\.?\s?#?\w+)?", digit_first=True),
    _Field("iban", "[iban]", r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?\b",
           is_valid=iban.is_valid),
    # bare digit runs: _classify_digits picks the placeholder from length, layout and checksums
    _Field("digits", "", r"(?<![+#/.,-])\d(?:[ -]?\d){9,29}(?![\w/]|[.,-]\d)", digit_first=True),
)


def _alternative(field: _Field) -> str:
    keyword = f"(?P<{field.name}_kw>(?:{field.keyword})\\b{_FILLER})" if field.keyword else ""
    return f"(?P<{field.name}>{keyword}(?P<{field.name}_value>{field.value}))"


def _compile() -> re.Pattern[str]:
    """One alternation tried only at word starts, dispatched on whether the word starts with a digit."""
    digit_first = "|".join(_alternative(field) for field in _FIELDS if field.digit_first)
    letter_first = "|".join(_alternative(field) for field in _FIELDS if not field.digit_first)
    return re.compile(rf"(?<!\w)(?:(?=\d)(?:{digit_first})|(?=[^\W\d_])(?:{letter_first}))")


_PATTERN = _compile()
_WORTH_A_LOOK = re.compile(rf"\d|{_HEALTH_KEYWORDS}")
_BY_NAME = {field.name: field for field in _FIELDS}
_SNILS_FORMAT = re.compile(r"\d{3}-\d{3}-\d{3}[ -]\d{2}")
_NIP_FORMAT = re.compile(r"\d{3}-\d{3}-\d{2}-\d{2}|\d{3}-\d{2}-\d{2}-\d{3}")


def _classify_digits(run: str) -> str | None:
    """The placeholder for a bare digit run that validates as a card, account, PESEL, SNILS or NIP."""
    digits = _digits(run)
    if len(digits) == 26 and iban.is_valid("PL" + digits):
        return "[bank account]"
    if 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn.is_valid(digits):
        return "[card]"
    if run.isdigit() and len(run) == 11 and is_plausible_pesel(run):
        return "[pesel]"
    if _SNILS_FORMAT.fullmatch(run) and is_valid_snils(run):
        return "[snils]"
    if _NIP_FORMAT.fullmatch(run) and nip.is_valid(digits):
        return "[nip]"
    return None


def _replace(match: re.Match[str]) -> str:
    field = _BY_NAME[match.lastgroup]
    value = match.group(f"{field.name}_value")
    if field.name == "digits":
        return _classify_digits(value) or value
    if not field.is_valid(value):
        return match.group()
    keyword = match.group(f"{field.name}_kw") if field.keyword else ""
    return keyword + field.placeholder


def redact(text: str) -> str:
    """``text`` with card, bank, ID and tax numbers, home addresses and diagnoses replaced by placeholders."""
    return _PATTERN.sub(_replace, text) if _WORTH_A_LOOK.search(text) else text
