"""The web pages' chrome (headings, buttons, notices, errors) in the reader's language."""

import re
import tomllib
from importlib.resources import files
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed: pip install -e '.[web]'")

from tests.test_web import Service, prepare

LABEL_FILES = {path.name.removesuffix(".toml"): path for path in files("dossier.web").joinpath("labels").iterdir()}


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Service:
    return prepare(database_url, tmp_path)


def flat_labels(table: dict, prefix: str = "") -> dict[str, str]:
    """Every label of a file as ``section.key`` -> text."""
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(flat_labels(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def labels_of(language: str) -> dict[str, str]:
    with LABEL_FILES[language].open("rb") as file:
        return flat_labels(tomllib.load(file))


def english_phrases() -> set[str]:
    """The English label values of two or more words, with their placeholders cut out."""
    phrases = set()
    for text in labels_of("en").values():
        for part in re.split(r"\{[a-z_]+\}", text):
            part = part.strip(" .:·(),#")
            if len(part.split()) >= 2:
                phrases.add(part)
    return phrases


def test_every_language_has_the_same_labels():
    assert {"en", "ru", "pl"} <= set(LABEL_FILES)
    english = set(labels_of("en"))
    for language in LABEL_FILES:
        assert set(labels_of(language)) == english, language


def assert_no_english(html: str) -> None:
    leaked = sorted(phrase for phrase in english_phrases() if phrase in html)
    assert not leaked, leaked


def test_a_russian_readers_card_and_message_page_have_no_english_chrome(service):
    card = service.get(f"/clients/{service.alfa}", "esokolova")
    assert card.status_code in (200, 202)
    assert '<html lang="ru">' in card.text
    assert "Было ли это полезно?" in card.text
    assert_no_english(card.text)
    message = service.get(f"/messages/{service.call_id}", "esokolova", at=252)
    assert message.status_code == 200 and '<html lang="ru">' in message.text
    assert_no_english(message.text)


def test_a_russian_readers_search_and_error_pages_have_no_english_chrome(service):
    search = service.get("/", "esokolova")
    assert '<html lang="ru">' in search.text
    assert_no_english(search.text)
    missing = service.get("/", "esokolova", q="nobody-such-client-xyz")
    assert missing.status_code == 404 and "nobody-such-client-xyz" in missing.text
    assert_no_english(missing.text)
    error = service.get("/clients/999999", "esokolova")
    assert error.status_code == 404 and '<html lang="ru">' in error.text
    assert_no_english(error.text)


def test_an_english_readers_card_keeps_its_english_chrome(service):
    card = service.get(f"/clients/{service.alfa}", "jcarter")
    assert '<html lang="en">' in card.text
    for phrase in ("Was this useful?", "Something missing", "Log out", f"Client #{service.alfa}"):
        assert phrase in card.text


@pytest.mark.parametrize(
    ("header", "language", "phrase"),
    [("pl-PL,pl;q=0.9,en;q=0.5", "pl", "Zaloguj się"), ("de-DE, ru;q=0.8", "ru", "Войти"), (None, "en", "Log in")],
)
def test_the_login_page_speaks_the_first_supported_accept_language(service, header, language, phrase):
    page = service.client.get("/login", headers={"Accept-Language": header} if header else None)
    assert page.status_code == 200 and f'<html lang="{language}">' in page.text and phrase in page.text
    if language != "en":
        assert_no_english(page.text)
