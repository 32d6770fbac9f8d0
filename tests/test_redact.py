"""Redaction: what a brief does not need is replaced by typed placeholders, what it needs stays.

Checksummed identifiers are redacted labelled or not, written with the separators people use; the same
shape with a wrong check digit, phone numbers, amounts, dates and order numbers stay as written.
"""

import pytest

from summarizer.redact import is_valid_snils, redact

REDACTED = {
    "card": [
        ("Card 4111 1111 1111 1111 was charged", "Card [card] was charged"),
        ("karta 5500-0000-0000-0004", "karta [card]"),
        ("карта 4111111111111111.", "карта [card]."),
        ("paid with 4111.1111.1111.1111 yesterday", "paid with [card] yesterday"),
        ("Amex 3782 822463 10005", "Amex [card]"),
        ("Zapłacę kartą 6011 1111 1111 1117 jutro.", "Zapłacę kartą [card] jutro."),
        ("card 4111 1111 1111 1111 2025", "card [card] 2025"),  # a number after the card is not taken with it
    ],
    "iban": [
        ("IBAN PL61 1090 1014 0000 0712 1981 2874 please", "IBAN [iban] please"),
        ("IBAN: DE89 3704 0044 0532 0130 00.", "IBAN: [iban]."),
        ("Przelew na PL61109010140000071219812874 do piątku.", "Przelew na [iban] do piątku."),
        ("konto 61 1090 1014 0000 0712 1981 2874", "konto [bank account]"),
        ("numer rachunku 61109010140000071219812874", "numer rachunku [bank account]"),
    ],
    "pesel": [
        ("PESEL 44051401359", "PESEL [pesel]"),
        ("mój pesel: 44051401359, dzięki", "mój pesel: [pesel], dzięki"),
        ("PESEL nr 440514-01359", "PESEL nr [pesel]"),
        ("Podaję numer 92051201349 do umowy.", "Podaję numer [pesel] do umowy."),
        ("Tel. +48 600 123 456 44051401359", "Tel. +48 600 123 456 [pesel]"),  # the phone ends where it ends
    ],
    "nip": [
        ("NIP 526-000-12-46", "NIP [nip]"),
        ("NIP: 5260001246", "NIP: [nip]"),
        ("NIP 526 000 12 46", "NIP [nip]"),
        ("NIP PL5260001246", "NIP [nip]"),
        ("faktura na 526-000-12-46", "faktura na [nip]"),
        ("Proszę o fakturę na firmę 1234563218, dziękuję.", "Proszę o fakturę na firmę [nip], dziękuję."),
        ("VAT PL 7792123459", "VAT [nip]"),
    ],
    "regon": [
        ("REGON 123456785", "REGON [regon]"),
        ("regon: 12-345678-5", "regon: [regon]"),
        ("REGON 12345678501233", "REGON [regon]"),
        ("Spółka o numerze 12345678501233 zapłaci.", "Spółka o numerze [regon] zapłaci."),
    ],
    "inn": [
        ("ИНН 7707083893", "ИНН [inn]"),
        ("ИНН: 500100732259.", "ИНН: [inn]."),
        ("ИНН 7707-083-893", "ИНН [inn]"),
        ("tax id 7707083893", "tax id [inn]"),
        ("ИНН/КПП 7707083893/773601001", "ИНН/КПП [inn]/773601001"),
        ("Реквизиты: 500100732259, счёт выставлен.", "Реквизиты: [inn], счёт выставлен."),
        ("Выставьте счёт на 3812345678 до пятницы.", "Выставьте счёт на [inn] до пятницы."),
    ],
    "snils": [
        ("СНИЛС 112-233-445 95", "СНИЛС [snils]"),
        ("снилс: 112-233-445 95", "снилс: [snils]"),
        ("SNILS 11223344595", "SNILS [snils]"),
        ("Мой номер 112 233 445 95, запишите.", "Мой номер [snils], запишите."),
        ("номер 112-233-445-95", "номер [snils]"),
    ],
    "card expiry and cvv": [
        ("Card 4111 1111 1111 1111, exp 12/25", "Card [card], exp [card expiry]"),
        ("card 4111 1111 1111 1111 exp 09/28", "card [card] exp [card expiry]"),
        ("card 4111-1111-1111-1111, expiry 12/29.", "card [card], expiry [card expiry]."),
        ("card 4111 1111 1111 1111 valid thru 09/2028", "card [card] valid thru [card expiry]"),
        ("4111 1111 1111 1111 09/28", "[card] [card expiry]"),
        ("karta 5555 5555 5555 4444, ważna do 09/28.", "karta [card], ważna do [card expiry]."),
        (
            "Оплачу картой 4111 1111 1111 1111, срок действия 12/29, CVV 123.",
            "Оплачу картой [card], срок действия [card expiry], CVV [cvv].",
        ),
        ("карта 4111111111111111 срок действия до 09/2028", "карта [card] срок действия до [card expiry]"),
        ("exp. 09/28 on card 4111 1111 1111 1111", "exp. [card expiry] on card [card]"),
        ("card [card], expiry 09/28", "card [card], expiry [card expiry]"),  # next to the redaction marker
        ("card 4111 1111 1111 1111 CVC: 987 exp 9/28", "card [card] CVC: [cvv] exp [card expiry]"),
        ("Card: 4111 1111 1111 1111\nExpiry: 09/28", "Card: [card]\nExpiry: [card expiry]"),
        ("CVV2 4321", "CVV2 [cvv]"),
        ("kod CVV: 123", "kod CVV: [cvv]"),
    ],
    "other personal data": [
        ("паспорт серия 4512 номер 345678, выдан", "паспорт серия [passport], выдан"),
        ("паспорт 45 12 345678", "паспорт [passport]"),
        ("Passport No. 123456789", "Passport No. [passport]"),
        ("dowód osobisty ABC 123456", "dowód osobisty [id number]"),
        ("nr dowodu: ABA300000", "nr dowodu: [id number]"),
        (
            "Adres zamieszkania: ul. Marszałkowska 12/3, 00-001 Warszawa. Dzwonić +48 600 123 456.",
            "Adres zamieszkania: [address]. Dzwonić +48 600 123 456.",
        ),
        (
            "домашний адрес: г. Москва, ул. Тверская, д. 5, кв. 7. Тел. 8 (495) 123-45-67",
            "домашний адрес: [address]. Тел. 8 (495) 123-45-67",
        ),
        ("He lives at 221 Baker Street, Apt 2 now.", "He lives at [address] now."),
        (
            "Wysyłka na ul. Polna 5 m. 3; доставка: ул. Ленина, д. 10, корп. 2, кв. 15",
            "Wysyłka na [address]; доставка: [address]",
        ),
        ("He was diagnosed with type 2 diabetes, back on Monday.", "He was diagnosed with [health], back on Monday."),
    ],
}

KEPT = {
    "card": [
        "Invalid card 4111 1111 1111 1112 was declined",  # fails Luhn
        "karta 5500-0000-0000-0005",
        "Invalid card 4111 1111 1111 1112, exp 09/28",  # no card, so no card expiry either
        "order 2024031500012",  # 13 digits failing Luhn
        "Contract valid thru 09/28, renewal on 10/28.",  # an expiry label without a card
        "Paid by [card]. Delivery 09/28 as agreed.",  # another sentence
        "Paid by [card].\n\nDelivery 09/28 as agreed.",  # another paragraph
    ],
    "iban": [
        "IBAN PL61 1090 1014 0000 0712 1981 2875",  # wrong check digits
        "konto 61 1090 1014 0000 0712 1981 2875",
    ],
    "pesel": [
        "PESEL 44051401358",  # wrong checksum
        "Podaję numer 92051201348 do umowy.",
        "contact number 07461616519",  # a UK mobile that passes the PESEL checksum, born in 2107
    ],
    "nip": [
        "NIP 526-000-12-47",
        "faktura na 526-000-12-47",
        "Proszę o fakturę na firmę 1234563217, dziękuję.",
    ],
    "regon": [
        "REGON 123456786",
        "Spółka o numerze 12345678501234 zapłaci.",
    ],
    "inn": [
        "ИНН 7707083894",
        "tax id 7707083894",
        "order 1234567890 shipped",  # a 10-digit order number failing the INN (and NIP) checksum
        "Заказ № 2024031500 от 12.03.2024",
        "Выставьте счёт на 3812345679 до пятницы.",
    ],
    "snils": [
        "СНИЛС 112-233-445 96",
        "Мой номер 112 233 445 96, запишите.",
    ],
    "phones": [
        "Call me at +48 600 123 456 or 22 123 45 67, mobile +7 916 123-45-67, 8 800 555 35 35",
        "Звоните 8 (495) 123-45-67, 8 916 123-45-67, 8-916-123-45-67, 89161234567 или 9161234567.",
        "+79161234567, +48600123456, +44 20 7946 0958, +1 (415) 555-2671, +7 495 1234567",
        "Tel. 600 123 456, kom. 600123456, tel: (22) 123 45 67, тел. 495 123-45-67",
        "Mobile 9102000013, WhatsApp +7 (910) 200-00-13",  # a valid INN's digits, written and labelled as a phone
        "телефон 4951234567, telefonu 4951234567",  # the digits of a valid NIP, labelled as a phone
    ],
    "amounts, dates and references": [
        "Total 1 250 000,00 zł, paid 15 000 PLN on 12.03.2024 and 2024-03-15 at 10:30",
        "Сумма 1 000 000 руб., бюджет 1.250.000,00 zł, а ещё 2 500 000 000 руб.",
        "Order #58812, order 2024031500012, invoice FV/2024/03/17, ticket 4111-22",
        "Счёт № 1234567890 от 15.03.2024, faktura FV/2024/1234567890, 12.03.2024 10:30",
        "Write to anna.nowak@alpha.pl or sales@beta.com",
        "The home address is on file; our office is at the old place.",
        "We shipped 2 Boxes today and 200 licences.",
    ],
}


def _cases(table: dict) -> list:
    return [
        pytest.param(*case if isinstance(case, tuple) else (case,), id=f"{kind}-{index}")
        for kind, cases in table.items()
        for index, case in enumerate(cases)
    ]


@pytest.mark.parametrize(("text", "expected"), _cases(REDACTED))
def test_personal_data_is_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", _cases(KEPT))
def test_what_a_brief_needs_is_kept(text: str) -> None:
    assert redact(text) == text


def test_every_placeholder_in_one_message() -> None:
    text = (
        "Hi, card 4111 1111 1111 1111 exp 09/28, PESEL 44051401359, NIP 526-000-12-46, ИНН 7707083893, "
        "СНИЛС 112-233-445 95, REGON 123456785, passport 123456789, phone +48 600 123 456, "
        "amount 15 000 PLN, due 15.04.2024."
    )
    redacted = redact(text)
    for placeholder in ("[card]", "[card expiry]", "[pesel]", "[nip]", "[inn]", "[snils]", "[regon]", "[passport]"):
        assert placeholder in redacted
    for kept in ("+48 600 123 456", "15 000 PLN", "15.04.2024"):
        assert kept in redacted
    for secret in (
        "4111",
        "09/28",
        "44051401359",
        "526-000-12-46",
        "7707083893",
        "112-233-445",
        "123456785",
        "123456789",
    ):
        assert secret not in redacted


def test_snils_checksum() -> None:
    assert is_valid_snils("112-233-445 95")
    assert not is_valid_snils("112-233-445 96")
    assert not is_valid_snils("001-001-998 00")  # issued before checksums: never treated as a SNILS


@pytest.mark.parametrize(
    "text",
    [
        "PESEL 44051401359, card 4111 1111 1111 1111 exp 09/28, CVV 123, ul. Polna 5 m. 3",
        "ИНН 7707083893, tax id 500100732259, REGON 12345678501233, konto 61 1090 1014 0000 0712 1981 2874",
    ],
)
def test_redaction_is_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
