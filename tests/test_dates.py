"""One date reader for extraction and grounding: every due date extraction reads from a source sentence is
found by grounding in that source, and a made-up date is not."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from summarizer.dates import due_wording
from summarizer.extract import extract
from summarizer.grounding import check_grounding, source_texts
from summarizer.notes import Citation, Claim, ClaimKind, Notes, SourceItem

MONTHS = {  # the month name as written after a day number, per language
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "ru": (
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ),
    "pl": (
        "stycznia",
        "lutego",
        "marca",
        "kwietnia",
        "maja",
        "czerwca",
        "lipca",
        "sierpnia",
        "września",
        "października",
        "listopada",
        "grudnia",
    ),
    "uk": (
        "січня",
        "лютого",
        "березня",
        "квітня",
        "травня",
        "червня",
        "липня",
        "серпня",
        "вересня",
        "жовтня",
        "листопада",
        "грудня",
    ),
    "de": (
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
}
PROMISE = {
    "en": "I will send the signed contract {}.",
    "ru": "Отправлю подписанный договор {}.",
    "pl": "Wyślę podpisaną umowę {}.",
    "uk": "I will send the signed contract {}.",
    "de": "I will send the signed contract {}.",
}
BY = {"en": "by", "ru": "до", "pl": "do", "uk": "до", "de": "bis"}
RELATIVE = {
    "en": (
        "tomorrow",
        "the day after tomorrow",
        "next week",
        "in 3 days",
        "in a week",
        "in two weeks",
        "by Friday",
        "by Monday",
        "by the end of the week",
        "by the end of the month",
        "this week",
    ),
    "ru": (
        "завтра",
        "послезавтра",
        "на следующей неделе",
        "через неделю",
        "через 5 дней",
        "до пятницы",
        "в понедельник",
        "до конца недели",
        "до конца месяца",
    ),
    "pl": (
        "jutro",
        "pojutrze",
        "w przyszłym tygodniu",
        "za 3 dni",
        "do piątku",
        "we wtorek",
        "do końca tygodnia",
        "do końca miesiąca",
    ),
}
MONTH_END = {"en": ("by the end of {}", "in {}"), "ru": ("до конца {}",), "pl": ("do końca {}",)}

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
written_at = st.datetimes(min_value=datetime(2021, 1, 1), max_value=datetime(2029, 12, 31)).map(
    lambda moment: moment.replace(tzinfo=UTC)
)


@st.composite
def numeric(draw: st.DrawFn) -> tuple[str, str]:
    """A numeric date, unambiguous (the day is past 12) so that a date a few days off is another date."""
    day = draw(days.filter(lambda day: day.day > 12))
    form = draw(st.sampled_from(("{d:02}.{m:02}.{y}", "{y}-{m:02}-{d:02}", "{d}/{m}/{y}", "{d:02}.{m:02}.{yy:02}")))
    return "en", form.format(d=day.day, m=day.month, y=day.year, yy=day.year % 100)


@st.composite
def named(draw: st.DrawFn) -> tuple[str, str]:
    """A day and a month name (German "5. März" would end the sentence at its dot: tested apart)."""
    language = draw(st.sampled_from(sorted(MONTHS)))
    day = draw(days)
    year = f" {day.year}" if draw(st.booleans()) else ""
    return language, f"{BY[language]} {day.day} {MONTHS[language][day.month - 1]}{year}"


@st.composite
def relative(draw: st.DrawFn) -> tuple[str, str]:
    language = draw(st.sampled_from(sorted(RELATIVE)))
    return language, draw(st.sampled_from(RELATIVE[language]))


@st.composite
def month_end(draw: st.DrawFn) -> tuple[str, str]:
    language = draw(st.sampled_from(sorted(MONTH_END)))
    month = draw(st.integers(1, 12))
    if language == "en" and month == 5:
        month = 6  # "in May" is also the modal verb; "by the end of May" is tested below
    name = MONTHS["en"][month - 1] if language == "en" else MONTHS[language][month - 1]
    return language, draw(st.sampled_from(MONTH_END[language])).format(name)


wordings = st.one_of(numeric(), named(), relative(), month_end())


def promise(sentence: str, at: datetime) -> SourceItem:
    return SourceItem(
        interaction_id=1,
        occurred_at=at,
        channel="email",
        direction="outbound",
        author="Jan Kowalski",
        subject=None,
        text=sentence,
    )


def kept(claim: Claim, item: SourceItem) -> bool:
    return bool(check_grounding(Notes(claims=[claim]), source_texts([item])).notes.claims)


def due_claims(item: SourceItem) -> list[Claim]:
    found = [claim for claim in extract(item) if claim.due is not None]
    assert found, f"no due date read from {item.text!r}"
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wordings, written_at)
def test_every_due_date_extraction_reads_is_grounded_in_its_source(wording: tuple[str, str], at: datetime) -> None:
    language, words = wording
    item = promise(PROMISE[language].format(words), at)
    for claim in due_claims(item):
        assert kept(claim, item), (item.text, at.date(), claim.due)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wordings, written_at, st.integers(8, 300))
def test_a_made_up_due_date_is_not_grounded(wording: tuple[str, str], at: datetime, shift: int) -> None:
    """A date more than a week from what the words mean (and not the day they were written) is not found."""
    language, words = wording
    item = promise(PROMISE[language].format(words), at)
    for claim in due_claims(item):
        assert claim.due is not None
        made_up = claim.due + timedelta(days=shift)
        assume(made_up != at.date())
        assert not kept(claim.model_copy(update={"due": made_up}), item), (item.text, at.date(), made_up)
        stated = Claim(
            kind=ClaimKind.ACTION,
            text=f"The contract is due on {made_up.isoformat()}.",
            sources=[Citation(interaction_id=1)],
        )
        assert not kept(stated, item), (item.text, made_up)


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("I will send the contract by the end of May.", date(2024, 5, 31)),
        ("I will send the contract in June.", date(2024, 6, 30)),
        ("Пришлём счёт через неделю.", date(2024, 3, 20)),
        ("Wyślę umowę do końca maja.", date(2024, 5, 31)),
        ("I will send the quote in 3 days.", date(2024, 3, 16)),
    ],
)
def test_month_ends_and_relative_phrases_ground(text: str, due: date) -> None:
    """Extraction read these due dates before, and grounding then dropped the claim quoting them."""
    item = promise(text, datetime(2024, 3, 13, 10, tzinfo=UTC))
    claims = due_claims(item)
    assert [claim.due for claim in claims] == [due]
    assert kept(claims[0], item)


@pytest.mark.parametrize(
    ("source", "claimed", "grounded"),
    [
        ("Поставка 15 березня 2024 року.", "Delivery on 2024-03-15.", True),  # uk
        ("Lieferung am 5. März 2024.", "Delivery on 2024-03-05.", True),  # de
        ("Dostawa 5 października 2024.", "Delivery on 05.10.2024.", True),
        ("Поставка 15 березня 2024 року.", "Delivery on 2024-03-16.", False),
        ("Lieferung am 5. März 2024.", "Delivery on 2024-05-03.", False),
    ],
)
def test_month_names_in_more_languages_ground(source: str, claimed: str, grounded: bool) -> None:
    item = SourceItem(
        interaction_id=1,
        occurred_at=datetime(2024, 1, 10, tzinfo=UTC),
        channel="email",
        direction="inbound",
        author=None,
        subject=None,
        text=source,
    )
    claim = Claim(kind=ClaimKind.EVENT, text=claimed, sources=[Citation(interaction_id=1)])
    assert kept(claim, item) is grounded


@pytest.mark.parametrize(
    ("text", "wording"),
    [
        ("We will, in this case, send it in June.", "in June"),  # "in this" names no month
        ("Отправлю договор до 15 березня.", "15 березня"),
        ("Wyślę umowę do piątku.", "piątku"),
    ],
)
def test_due_wording_is_a_date_the_text_names(text: str, wording: str) -> None:
    assert due_wording(text) == wording
