"""What a claim names, free of its language (summarizer.facets), and the claim worded from it in another
language: figures and codes as written, never a number its source does not hold. Inputs are invented."""

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from summarizer.facets import facets
from summarizer.notes import Citation, Claim, ClaimKind
from summarizer.render import load_labels, worded_facets


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Купили KX-20, 80 шт., договор KX-2024-31 подписан",
            {"subjects": ("contract",), "states": ("signed",), "codes": ("KX-20", "KX-2024-31"), "counts": ("80",)},
        ),
        (
            "Można dać 5% przy przedpłacie 30%: razem 12 500 zł",
            {"subjects": ("payment",), "amounts": ("12 500 PLN",), "shares": ("5%", "30%")},
        ),
        (
            "The budget for 40 seats is not approved yet",
            {"subjects": ("budget",), "states": ("pending",), "counts": ("40",)},
        ),
        ("Инженер приедет 14 мая до 10:30", {"subjects": ("visit",), "times": ("10:30",)}),  # "14 мая": a date
        (
            "Pani Ewa woli WhatsApp, dzwonić tylko po 15:00",
            {"names": ("Pani Ewa",), "times": ("15:00",), "channels": ("whatsapp", "phone")},
        ),
        (
            "Наш финансовый директор Павел Орлов уходит на пенсию",
            {"states": ("leaving",), "roles": ("cfo",), "names": ("Павел Орлов",)},
        ),
        ("Жалобу закрыли: всё работает", {"states": ("complaint", "resolved")}),
    ],
)
def test_facets_of_a_sentence(text: str, expected: dict[str, tuple[str, ...]]) -> None:
    found = facets(text)._asdict()
    assert {name: value for name, value in found.items() if value} == expected


def worded(kind: ClaimKind, text: str, language: str = "en", **fields: object) -> str | None:
    claim = Claim(kind=kind, text=text, date=date(2025, 5, 2), sources=[Citation(interaction_id=1)], **fields)
    return worded_facets(claim, load_labels(language))


@pytest.mark.parametrize(
    ("kind", "text", "language", "expected"),
    [
        (ClaimKind.PURCHASE, "Купили KX-20, 80 шт., договор KX-2024-31 подписан", "en",
         "purchase: contract, KX-20, KX-2024-31, 80 units (signed)"),
        (ClaimKind.AGREEMENT, "Можем дать 5% при предоплате 30%: итого 900 000 руб", "pl",
         "uzgodniono: płatność, 900 000 RUB, 5%, 30%"),
        (ClaimKind.STATUS, "Budżet na 40 licencji jeszcze nie zatwierdzony", "ru",
         "новости: бюджет, 40 шт. (ожидается)"),
        (ClaimKind.PREFERENCE, "Иван предпочитает Telegram; звонить только до 12:00", "en",
         "reach by: Telegram, phone, 12:00"),
        (ClaimKind.PERSON, "Решения о закупках принимает Ольга Ветрова", "pl", "Ольга Ветрова, decyduje"),
    ],
)  # fmt: skip
def test_a_claim_worded_in_another_language(kind: ClaimKind, text: str, language: str, expected: str) -> None:
    assert worded(kind, text, language) == expected


def test_a_claim_in_the_readers_script_a_question_or_a_bare_figure_is_not_worded() -> None:
    assert worded(ClaimKind.STATUS, "The budget is not approved yet") is None  # English in an English summary
    assert worded(ClaimKind.ACTION, "Можете дать скидку 10%?") is None  # a question keeps its words
    assert worded(ClaimKind.EVENT, "Иван, 10% не получится") is None  # a figure alone says too little
    assert worded(ClaimKind.EVENT, "Тема: договор KX-2024-31", topic="thread:тема: договор kx-2024-31") is None


def test_an_action_is_worded_without_the_states_of_its_words() -> None:
    """ "Send the signed contract" is an open action about the contract, not news that it was signed."""
    assert worded(ClaimKind.ACTION, "Пришлите подписанный договор до пятницы") == "contract"


FIGURE = re.compile(r"\d+")


@given(
    st.lists(
        st.sampled_from(
            ["Купили", "договор", "KX-20", "80 шт.", "12 500 руб.", "5%", "до 12:00", "подписан", "скидка", "14 мая",
             "2025 года", "Ольга Ветрова", "не", "утвердили", "Telegram", "7 000", "№ 31-7"]
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(list(ClaimKind)),
)  # fmt: skip
def test_a_worded_claim_names_no_figure_its_source_does_not(words: list[str], kind: ClaimKind) -> None:
    text = " ".join(words)
    wording = worded(kind, text) or ""
    source_figures = set(FIGURE.findall(text))
    assert set(FIGURE.findall(wording)) <= source_figures
