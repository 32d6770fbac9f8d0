"""Redaction: what a brief does not need is replaced by typed placeholders, what it needs stays."""

import pytest

from summarizer.redact import is_valid_snils, redact


@pytest.mark.parametrize(("text", "expected"), [
    ("Card 4111 1111 1111 1111, exp 12/25", "Card [card], exp 12/25"),
    ("karta 5500-0000-0000-0004", "karta [card]"),
    ("карта 4111111111111111.", "карта [card]."),
    ("IBAN PL61 1090 1014 0000 0712 1981 2874 please", "IBAN [iban] please"),
    ("IBAN: DE89 3704 0044 0532 0130 00.", "IBAN: [iban]."),
    ("konto 61 1090 1014 0000 0712 1981 2874", "konto [bank account]"),
    ("PESEL 44051401359", "PESEL [pesel]"),
    ("mój pesel: 44051401359, dzięki", "mój pesel: [pesel], dzięki"),
    ("NIP 526-000-12-46", "NIP [nip]"),
    ("NIP: 5260001246", "NIP: [nip]"),
    ("faktura na 526-000-12-46", "faktura na [nip]"),
    ("ИНН 7707083893", "ИНН [inn]"),
    ("ИНН: 500100732259.", "ИНН: [inn]."),
    ("СНИЛС 112-233-445 95", "СНИЛС [snils]"),
    ("снилс: 112-233-445 95", "снилс: [snils]"),
    ("паспорт серия 4512 номер 345678, выдан", "паспорт серия [passport], выдан"),
    ("паспорт 45 12 345678", "паспорт [passport]"),
    ("Passport No. 123456789", "Passport No. [passport]"),
    ("dowód osobisty ABC 123456", "dowód osobisty [id number]"),
    ("nr dowodu: ABA300000", "nr dowodu: [id number]"),
    ("Adres zamieszkania: ul. Marszałkowska 12/3, 00-001 Warszawa. Dzwonić +48 600 123 456.",
     "Adres zamieszkania: [address]. Dzwonić +48 600 123 456."),
    ("домашний адрес: г. Москва, ул. Тверская, д. 5, кв. 7. Тел. 8 (495) 123-45-67",
     "домашний адрес: [address]. Тел. 8 (495) 123-45-67"),
    ("He lives at 221 Baker Street, Apt 2 now.", "He lives at [address] now."),
    ("Wysyłka na ul. Polna 5 m. 3; доставка: ул. Ленина, д. 10, корп. 2, кв. 15",
     "Wysyłka na [address]; доставка: [address]"),
    ("He was diagnosed with type 2 diabetes, back on Monday.", "He was diagnosed with [health], back on Monday."),
])
def test_personal_data_is_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "Invalid card 4111 1111 1111 1112 was declined",  # fails Luhn
    "IBAN PL61 1090 1014 0000 0712 1981 2875",  # wrong check digits
    "PESEL 44051401358",  # wrong checksum
    "contact number 07461616519",  # a UK mobile that passes the PESEL checksum, born in 2107
    "NIP 526-000-12-47",
    "ИНН 7707083894",
    "СНИЛС 112-233-445 96",
    "Call me at +48 600 123 456 or 22 123 45 67, mobile +7 916 123-45-67, 8 800 555 35 35",
    "Total 1 250 000,00 zł, paid 15 000 PLN on 12.03.2024 and 2024-03-15 at 10:30",
    "Order #58812, order 2024031500012, invoice FV/2024/03/17, ticket 4111-22",
    "Write to anna.nowak@alpha.pl or sales@beta.com",
    "The home address is on file; our office is at the old place.",
    "We shipped 2 Boxes today and 200 licences.",
])
def test_what_a_brief_needs_is_kept(text: str) -> None:
    assert redact(text) == text


def test_every_placeholder_in_one_message() -> None:
    text = ("Hi, card 4111 1111 1111 1111, PESEL 44051401359, NIP 526-000-12-46, ИНН 7707083893, "
            "СНИЛС 112-233-445 95, passport 123456789, phone +48 600 123 456, amount 15 000 PLN, due 15.04.2024.")
    redacted = redact(text)
    for placeholder in ("[card]", "[pesel]", "[nip]", "[inn]", "[snils]", "[passport]"):
        assert placeholder in redacted
    for kept in ("+48 600 123 456", "15 000 PLN", "15.04.2024"):
        assert kept in redacted
    for secret in ("4111", "44051401359", "526-000-12-46", "7707083893", "112-233-445", "123456789"):
        assert secret not in redacted


def test_snils_checksum() -> None:
    assert is_valid_snils("112-233-445 95")
    assert not is_valid_snils("112-233-445 96")
    assert not is_valid_snils("001-001-998 00")  # issued before checksums: never treated as a SNILS


def test_redaction_is_idempotent() -> None:
    once = redact("PESEL 44051401359, card 4111 1111 1111 1111, ul. Polna 5 m. 3")
    assert redact(once) == once
