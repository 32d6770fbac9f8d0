"""Quarterly review and handover reports: HTML with embedded charts, PDF checked by rendering its pages to PNG
(pdftoppm) and reading its text back (pdftotext), in Russian and Polish; every statement cited; Report rows."""

import re
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from dossier.delivery.reports import make_report, parse_quarter, previous_quarter
from storage import repository
from storage.errors import DossierError
from storage.models import Report, User
from tests.db import session_scope
from tests.test_digest import cli, load_summarized_sample

pytest.importorskip("weasyprint", reason="WeasyPrint is in the reports extra")
pytest.importorskip("matplotlib", reason="matplotlib is in the reports extra")
POPPLER = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils (pdftoppm, pdftotext) is not installed; CI installs it",
)
AS_OF = date(2026, 11, 21)
runner = CliRunner()


@pytest.fixture
def summarized_sample(database_url, tmp_path):
    return load_summarized_sample(tmp_path / "sample")


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def render_pages(pdf: Path, out: Path) -> list[Path]:
    """Every page as a PNG (what a reader sees)."""
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(out / "page")], check=True)
    return sorted(out.glob("page-*.png"))


def embedded_fonts(pdf: Path) -> list[str]:
    """Names of the fonts the PDF embeds (``pdffonts``, from poppler-utils as well)."""
    lines = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout.splitlines()[2:]
    return [line.split()[0] for line in lines if " yes " in line]


class Statements(HTMLParser):
    """The text of every list item of a report, and whether it has a citation link."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, bool]] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            self.items.append(("", False))
            self._depth += 1
        elif tag == "a" and self._depth and ("class", "cite") in attrs:
            self.items[-1] = (self.items[-1][0], True)

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.items[-1] = (self.items[-1][0] + data, self.items[-1][1])


def statements(html: str) -> list[tuple[str, bool]]:
    parser = Statements()
    parser.feed(html)
    return parser.items


@POPPLER
def test_quarterly_review_in_russian_has_its_sections_charts_and_cited_statements(summarized_sample, tmp_path):
    written = make_report(
        "quarterly", "Alfa Group", quarter="2025Q4", to="esokolova", out=tmp_path / "alfa.pdf", as_of=AS_OF
    )

    html = written.html_path.read_text(encoding="utf-8")
    assert len(re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{200,}"', html)) == 2  # activity, tone
    found = statements(html)
    assert found and all(cited for _text, cited in found), [text for text, cited in found if not cited]
    text = " ".join(pdf_text(written.pdf_path).split())
    for title in (
        "Квартальный обзор",
        "Alfa Group",
        "Квартал 2025Q4: 2025-10-01 – 2025-12-31",
        "Покупки",
        "Ключевые события",
        "Решённые проблемы",
        "Открытые вопросы",
        "Возможности допродаж",
        "Активность по каналам",
        "Динамика тона",
        "Источники",
    ):
        assert title in text, title
    assert "Купили NW-300, 120 шт., договор NW-2025-117 подписан." in text  # the purchase, from a note
    assert "2026-01-15" not in text.split("Источники")[0]  # the firmware incident is in Q1 2026, not here
    assert re.search(r"\[#\d+\]", text)
    assert any("DejaVu" in font for font in embedded_fonts(written.pdf_path))  # Cyrillic glyphs, not tofu
    pages = render_pages(written.pdf_path, tmp_path)
    assert pages and all(page.stat().st_size > 5_000 for page in pages)


@POPPLER
def test_handover_in_polish_lists_people_promises_and_what_not_to_ask_again(summarized_sample, tmp_path):
    written = make_report("handover", "Bałtyk Logistyka", to="pnowak", out=tmp_path / "handover.pdf", as_of=AS_OF)

    assert (written.html_path.name, written.pdf_path.name) == ("handover.html", "handover.pdf")
    found = statements(written.html_path.read_text(encoding="utf-8"))
    assert found and all(cited for _text, cited in found), [text for text, cited in found if not cited]
    flat = " ".join(pdf_text(written.pdf_path).split())
    for title in (
        "Raport przekazania klienta",
        "Bałtyk Logistyka",
        "Opiekun klienta: Marek Kowalski",
        "Dla: Piotr Nowak",
        "Uporządkowana historia",
        "Ustalenia",
        "Osoby i ich role",
        "Wszystkie otwarte obietnice",
        "Ryzyka",
        "Następne kroki",
        "O co nowy opiekun nie powinien pytać ponownie",
        "Aktywność według kanałów",
        "Trend tonu",
    ):
        assert title in flat, title
    assert "Katarzyna Wiśniewska, Kierownik ds. zakupów" in flat  # a person and her role, Polish letters intact
    do_not_ask = flat.split("O co nowy opiekun nie powinien pytać ponownie")[1]
    assert "woli WhatsApp po 16:00" in do_not_ask and "nie zapomnijcie o rabacie 5%" in do_not_ask
    assert "Przygotuję ofertę do 30 września" in flat.split("Wszystkie otwarte obietnice")[1]
    next_steps = flat.split("Następne kroki")[1]
    assert "Transakcja LP-40 Poznań (D-BAL-02) przeszła do etapu „kwalifikacja”: 20 425,00 PLN." in next_steps
    assert "PL61" not in flat and "44051401359" not in flat  # bank account and PESEL stay redacted
    assert render_pages(written.pdf_path, tmp_path)
    with session_scope() as session:
        [row] = session.scalars(select(Report)).all()
    assert (row.kind, row.period, row.params["to"], row.params["language"]) == (
        "handover",
        AS_OF.isoformat(),
        "pnowak",
        "pl",
    )
    assert Path(row.pdf_path) == written.pdf_path.resolve() and Path(row.html_path).is_file()


def test_report_commands_write_both_files_and_reject_bad_input(summarized_sample, tmp_path):
    result = runner.invoke(
        cli(),
        [
            "report",
            "quarterly",
            "Harbor & Finch",
            "--quarter",
            "2026Q1",
            "--out",
            str(tmp_path / "hf.html"),
            "--as-of",
            AS_OF.isoformat(),
        ],
    )

    assert result.exit_code == 0, result.output
    assert (tmp_path / "hf.html").is_file() and (tmp_path / "hf.pdf").read_bytes().startswith(b"%PDF")
    assert "Quarterly business review" in (tmp_path / "hf.html").read_text(encoding="utf-8")  # no --to: English
    with pytest.raises(DossierError, match="no client matches 'Nobody'"):
        make_report("handover", "Nobody", out=tmp_path / "x.pdf")
    with pytest.raises(DossierError, match="bad quarter '2025Q5'"):
        make_report("quarterly", "Alfa Group", quarter="2025Q5", out=tmp_path / "x.pdf")
    with pytest.raises(DossierError, match="no user 'ghost'"):
        make_report("handover", "Alfa Group", to="ghost", out=tmp_path / "x.pdf")
    with pytest.raises(DossierError, match=r"--out .*h\.txt: name a \.pdf or \.html file, or a folder"):
        make_report("handover", "Alfa Group", out=tmp_path / "h.txt", pdf=False)
    assert not list(tmp_path.glob("h.txt*"))
    folder = make_report("handover", "Alfa Group", out=tmp_path / "reports", pdf=False, as_of=AS_OF)
    assert folder.html_path.parent == tmp_path / "reports" and folder.html_path.name.startswith("handover-alfa-group")


def test_quarters():
    assert parse_quarter("2025q4") == ("2025Q4", date(2025, 10, 1), date(2026, 1, 1))
    assert parse_quarter("2026-Q1") == ("2026Q1", date(2026, 1, 1), date(2026, 4, 1))
    assert previous_quarter(date(2026, 11, 21)) == "2026Q3"
    assert previous_quarter(date(2026, 2, 1)) == "2025Q4"


def test_the_batch_jobs_report_builders_return_html_in_the_readers_language(summarized_sample):
    from dossier.delivery.reports import build_handover_report, build_quarterly_review

    with session_scope() as session:
        alfa = repository.find_client(session, "Alfa Group")
        pnowak = session.scalar(select(User.id).where(User.login == "pnowak"))
        quarterly = build_quarterly_review(session, alfa, "quarterly", "2026Q1", {})
        handover = build_handover_report(session, alfa, "handover", "2026-11-21", {"to_manager": pnowak})

    assert "Квартальный обзор" in quarterly and "Квартал 2026Q1" in quarterly  # Elena, the owner, reads Russian
    assert "Претензия" in quarterly or "прошив" in quarterly  # the January firmware incident is in Q1
    assert "Raport przekazania klienta" in handover and "Dla: Piotr Nowak" in handover
