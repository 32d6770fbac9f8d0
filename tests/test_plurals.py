"""Counted labels read right in every language: "1 client", "2 clients"; "1 клиент", "2 клиента", "5 клиентов"."""

import re
from datetime import UTC, date, datetime

import pytest

from dossier.delivery.templating import labels
from summarizer.notes import Citation, Claim, ClaimKind, Notes
from summarizer.plurals import Plural, is_plural_table, plural_form, plural_forms
from summarizer.render import ClientInfo, available_languages, load_labels, render

COUNTS = (1, 2, 5, 22)
#: The noun after each count, per language, as a native reader expects it (CLDR: one, few, many; 22 is few).
CLIENTS = {
    "en": {1: "1 client", 2: "2 clients", 5: "5 clients", 22: "22 clients"},
    "ru": {1: "1 клиент", 2: "2 клиента", 5: "5 клиентов", 22: "22 клиента"},
    "pl": {1: "1 klient", 2: "2 klientów", 5: "5 klientów", 22: "22 klientów"},
}
INTERACTIONS = {
    "en": {1: "1 interaction", 2: "2 interactions", 5: "5 interactions", 22: "22 interactions"},
    "ru": {1: "1 взаимодействие", 2: "2 взаимодействия", 5: "5 взаимодействий", 22: "22 взаимодействия"},
    "pl": {1: "1 interakcja", 2: "2 interakcje", 5: "5 interakcji", 22: "22 interakcje"},
}


def says(text: str, words: str) -> bool:
    """Whether ``text`` has ``words`` as whole words ("1 client" is not in "1 clients")."""
    return re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text) is not None


def test_the_cldr_plural_forms_of_each_language() -> None:
    assert [plural_form("en", n) for n in COUNTS] == ["one", "other", "other", "other"]
    assert [plural_form("ru", n) for n in COUNTS] == ["one", "few", "many", "few"]
    assert [plural_form("pl", n) for n in COUNTS] == ["one", "few", "many", "few"]
    assert plural_form("ru", 21) == "one" and plural_form("pl", 21) == "many"


def test_a_plural_label_formats_like_a_string() -> None:
    label = Plural({"one": "{count} file in {where}", "other": "{count} files in {where}"}, "en")
    assert label.format(count=1, where="inbox") == "1 file in inbox"
    assert label.format(count=3, where="inbox") == "3 files in inbox"


def _plural_tables(table: dict, path: str = ""):
    for key, value in table.items():
        if isinstance(value, Plural):
            yield f"{path}{key}", value
        elif isinstance(value, dict):
            yield from _plural_tables(value, f"{path}{key}.")


@pytest.mark.parametrize("language", ["en", "ru", "pl"])
def test_every_counted_label_spells_out_each_plural_form_of_its_language(language: str) -> None:
    tables = [*_plural_tables(labels(language)), *_plural_tables(load_labels(language))]
    names = {name for name, _ in tables}
    assert {"digest.subject", "digest.activity", "digest.more", "text.overview"} <= names
    for name, table in tables:
        assert set(table.forms) == plural_forms(language), (language, name)
        assert all("{count}" in form for form in table.forms.values()), (language, name)


def test_a_label_file_keeps_no_raw_table_of_forms() -> None:
    for language in available_languages():
        for table in (labels(language), load_labels(language)):
            assert not [name for name, value in _walk(table) if is_plural_table(value)], language


def _walk(table: dict, path: str = ""):
    for key, value in table.items():
        yield f"{path}{key}", value
        if isinstance(value, dict) and not is_plural_table(value):
            yield from _walk(value, f"{path}{key}.")


@pytest.mark.parametrize("language", ["en", "ru", "pl"])
@pytest.mark.parametrize("count", COUNTS)
def test_the_digest_subject_and_activity_agree_with_their_count(language: str, count: int) -> None:
    digest = labels(language)["digest"]
    assert says(digest["subject"].format(period="2026-W45", count=count), CLIENTS[language][count])
    assert says(digest["activity"].format(count=count, channels="e-mail"), INTERACTIONS[language][count])


def notes_with(interactions: int) -> Notes:
    day = datetime(2026, 3, 2, tzinfo=UTC)
    status = Claim(
        kind=ClaimKind.STATUS, text="The pilot runs.", date=date(2026, 3, 2), sources=[Citation(interaction_id=7)]
    )
    return Notes(
        interactions=interactions, first_at=day, last_at=day, channels={"email": interactions}, claims=[status]
    )


@pytest.mark.parametrize("language", ["en", "ru", "pl"])
@pytest.mark.parametrize("count", COUNTS)
def test_the_briefs_overview_line_agrees_with_its_count(language: str, count: int) -> None:
    brief = render(
        "brief", notes_with(count), client=ClientInfo(id=1, name="Acme"), language=language, as_of=date(2026, 3, 9)
    )
    overview = brief.content["sentences"][0]["text"]
    assert says(overview, INTERACTIONS[language][count]), overview
    if language == "ru" and count == 5:
        assert "взаимодействий: 5" not in overview  # the old "noun: count" wording is gone
