"""Reports that read right: the default quarter is the last one with activity, an empty period says why and
draws no empty chart, carried-over items say since when, one language throughout, sources a reader
recognises (linked to the web app when its address is set), and tone words that follow the figures."""

import re
import shutil
import subprocess
import tomllib
from datetime import date
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from dossier.delivery import reports
from dossier.delivery.reports import make_report
from dossier.delivery.templating import LABELS_DIR, labels
from dossier.settings import get_settings
from storage import repository
from storage.models import Interaction
from tests.db import session_scope
from tests.test_digest import cli, load_summarized_sample

pytest.importorskip("weasyprint", reason="WeasyPrint is in the reports extra")
pytest.importorskip("matplotlib", reason="matplotlib is in the reports extra")
POPPLER = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed; CI installs it"
)
AS_OF = date(2026, 11, 21)  # the sample's Alfa Group has no interaction in 2026Q3, its last ones in 2026Q2 and Q4
CHART = re.compile(r'<img src="data:image/png;base64,')
runner = CliRunner()


@pytest.fixture
def summarized_sample(database_url, tmp_path):
    return load_summarized_sample(tmp_path / "sample")


def pdf_text(pdf: Path) -> str:
    """The PDF's text, whitespace folded."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return " ".join(text.split())


def html_text(html: str) -> str:
    """The visible text of a report page (no styles, no image data), whitespace folded."""
    body = re.sub(r"<style>.*?</style>|<[^>]+>", " ", html, flags=re.DOTALL)
    return " ".join(unescape(body).split())


def section(text: str, title: str, next_title: str) -> str:
    return text.split(title, 1)[1].split(next_title, 1)[0]


def run_report(*args: str) -> str:
    result = runner.invoke(cli(), ["report", *args, "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


@POPPLER
def test_the_default_quarter_is_the_last_finished_one_with_activity_and_an_empty_one_says_why(
    summarized_sample, tmp_path
):
    output = run_report("quarterly", "Alfa Group", "--lang", "en", "--out", str(tmp_path / "default.pdf"))

    assert "2026Q2, the last quarter with activity" in output  # 2026Q3, the quarter before AS_OF, is empty
    text = pdf_text(tmp_path / "default.pdf")
    assert "Quarter 2026Q2: 2026-04-01 – 2026-06-30 (the last quarter with activity)" in text
    assert len(CHART.findall((tmp_path / "default.html").read_text(encoding="utf-8"))) == 2
    assert "Tone trend: mostly steady; lowest in January 2026 (−0.30)" in text  # the charted −0.30, not "steady"

    empty = make_report(
        "quarterly", "Alfa Group", quarter="2026Q3", language="en", out=tmp_path / "q3.pdf", as_of=AS_OF
    )

    html = empty.html_path.read_text(encoding="utf-8")
    assert not CHART.search(html)  # no bars over nothing, no tone line from other quarters
    text = pdf_text(empty.pdf_path)
    assert "the last quarter with activity" not in text  # asked for, not chosen
    assert "No chart: no interactions in 2026Q3." in text
    assert "No tone chart: no client messages in 2026Q3." in text
    for title, following in (("Purchases", "Key events"), ("Key events", "Solved problems")):
        assert section(text, title, following).strip() == "No activity in 2026Q3.", title
    assert "Nothing recorded." not in text  # every empty section says why


@POPPLER
def test_open_questions_from_before_the_quarter_say_they_are_carried_over_and_since_when(summarized_sample, tmp_path):
    written = make_report(
        "quarterly", "Alfa Group", quarter="2026Q2", language="en", out=tmp_path / "q2.pdf", as_of=AS_OF
    )

    open_questions = section(pdf_text(written.pdf_path), "Open questions", "Upsell chances")
    assert "Инженер приедет завтра" not in open_questions  # the visit came: the complaint was closed days later
    october = section(open_questions, "2025-10-20", "[#")
    assert "carried over from 20 October 2025" in october  # another year: the year is named
    budget = section(open_questions, "2026-05-18", "[#")  # asked within the quarter: not carried over
    assert "Бюджет на LP-40" in budget and "carried over" not in budget
    ru = make_report(
        "quarterly", "Alfa Group", quarter="2026Q2", language="ru", out=tmp_path / "q2-ru.pdf", as_of=AS_OF
    )
    assert "перенесено с 20 октября 2025" in pdf_text(ru.pdf_path)


def english_label_phrases(client_words: str) -> list[str]:
    """The fixed words of every English report label of two words or more (placeholders cut out), that neither
    the Russian labels nor the client's own messages (``client_words``) share."""
    with (LABELS_DIR / "en.toml").open("rb") as file:
        english = tomllib.load(file)
    russian = " ".join(strings(labels("ru")))
    phrases = {
        piece.strip(" .,:;()“”")
        for value in strings(english)
        for piece in re.split(r"\{[^}]*\}", value)
        if len(re.findall(r"[A-Za-z]{2,}", piece)) >= 2
    }
    return sorted(phrase for phrase in phrases if phrase and phrase not in russian and phrase not in client_words)


def messages_of(client: str) -> str:
    """Every subject and text of a client's interactions, whitespace folded."""
    with session_scope() as session:
        found = repository.find_client(session, client)
        rows = session.execute(
            select(Interaction.subject, Interaction.body).where(Interaction.client_id == found.id)
        ).all()
    return " ".join(" ".join(text for row in rows for text in row if text).split())


def strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    return []


@POPPLER
def test_a_russian_report_of_an_english_client_is_russian_throughout_deal_moves_included(summarized_sample, tmp_path):
    written = make_report("handover", "Harbor & Finch", language="ru", out=tmp_path / "hf.pdf", as_of=AS_OF)

    html = html_text(written.html_path.read_text(encoding="utf-8"))
    pdf = pdf_text(written.pdf_path)
    phrases = english_label_phrases(messages_of("Harbor & Finch"))
    assert len(phrases) > 40  # the check reads the labels, not a hand-picked list
    for text in (html, pdf):
        assert [phrase for phrase in phrases if phrase in text] == []
        assert "moved to stage" not in text and "Deal " not in text  # the CRM importer's English frame
    history = section(html, "Структурированная история", "Договорённости")
    assert "Сделка NW-300 for stock counts (D-HF-01) переведена на стадию «выиграна»: 6 500,00 GBP." in history
    assert "Сделка Leeds cafés (D-HF-02) переведена на стадию «предложение»: 3 500,00 GBP." in history
    steering = make_report(
        "handover", "Michael Brennan", language="ru", out=tmp_path / "mb.html", pdf=False, as_of=AS_OF
    )
    risks = section(html_text(steering.html_path.read_text(encoding="utf-8")), "Риски", "Следующие шаги")
    assert "Сообщение пытается управлять сводкой" in risks  # the summarizer's own label, in the report's language
    channels = set(re.findall(r'<td class="channel">([^<]*)</td>', written.html_path.read_text(encoding="utf-8")))
    assert channels == {"почта", "сделка", "заметка"}  # e-mails, deal changes and notes, named in Russian


@POPPLER
def test_the_sources_show_what_a_reader_recognises_linked_to_the_web_app(summarized_sample, tmp_path, monkeypatch):
    monkeypatch.setenv("DOSSIER_PUBLIC_BASE_URL", "https://dossier.example.com/")
    get_settings.cache_clear()
    run_report("handover", "Bałtyk Logistyka", "--lang", "pl", "--out", str(tmp_path / "b.pdf"))

    html = (tmp_path / "b.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr id="src-(\d+)">(.*?)</tr>', html, flags=re.DOTALL)
    assert len(rows) > 10
    for interaction_id, row in rows:
        assert f'href="https://dossier.example.com/messages/{interaction_id}"' in row  # the message page
    cites = re.findall(r'<a class="cite" href="([^"]*)">\[#(\d+)( @[\d:]+)?\]</a>', html)
    assert cites and "#src-" not in html.split("<table", 1)[0]  # every inline marker links out, none to its row
    for href, interaction_id, at in cites:
        assert re.fullmatch(rf"https://dossier\.example\.com/messages/{interaction_id}(\?at=[\d.]+)?", href)
        assert ("?at=" in href) == bool(at)
    text = pdf_text(tmp_path / "b.pdf")
    sources = text.split("Źródła", 1)[1]
    for internal in ("result.json", ".csv", ".txt#", "#line", "#chat", "recording:", "sample/"):
        assert internal not in sources, internal
    assert "Zapytanie ofertowe: drukarki LP-40" in sources  # an e-mail's subject
    assert "Panie Marku, w przyszłym roku otwieramy" in sources  # a chat message's first words
    assert "Transakcja LP-40 Poznań (D-BAL-02)" in sources  # a deal change, in the report's language
    assert "klient (+48 602 345 678)" in sources  # a chat author known only by number: the side, and the number


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        (
            [("2025-10", 0.0), ("2026-01", -0.3), ("2026-03", 0.0), ("2026-04", 0.0), ("2026-05", 0.0)],
            "mostly steady; lowest in January 2026 (−0.30)",
        ),
        ([("2026-01", 0.1), ("2026-02", 0.1), ("2026-03", 0.2)], "steady"),
        ([("2026-01", 0.4), ("2026-02", 0.3), ("2026-03", -0.3)], "cooling; lowest in March 2026 (−0.30)"),
        ([("2026-01", -0.5), ("2026-02", 0.0), ("2026-03", 0.4)], "warming; lowest in January 2026 (−0.50)"),
        ([("2026-01", -0.5)], "one month only: January 2026 (−0.50)"),
    ],
)
def test_the_tone_words_follow_the_charted_points(points, expected):
    assert reports.tone_words(points, labels("en")) == expected


def test_a_negative_month_never_reads_as_steady_alone_in_any_language():
    points = [("2026-01", 0.0), ("2026-02", -0.3), ("2026-03", 0.0), ("2026-04", 0.0)]
    assert reports.tone_words(points, labels("ru")) == "в целом ровный; минимум — февраль 2026 (−0,30)"
    assert reports.tone_words(points, labels("pl")) == "przeważnie stabilny; najniżej: luty 2026 (−0,30)"
