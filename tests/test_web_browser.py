"""The client card in real headless Chromium against the real server: log in, follow citations, send feedback."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python: pip install -e '.[web]'")
uvicorn = pytest.importorskip("uvicorn", reason="the web extra is not installed: pip install -e '.[web]'")

from dossier.web import create_app  # noqa: E402
from storage import access  # noqa: E402
from storage.models import Feedback  # noqa: E402
from tests.db import session_scope  # noqa: E402
from tests.loopback import free_port  # noqa: E402
from tests.test_web import CALL_LINES, Service, prepare  # noqa: E402

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Service]]:
    """The app on a free loopback port in a uvicorn thread, over the summarized sample."""
    service = prepare(database_url, tmp_path)
    server = uvicorn.Server(
        uvicorn.Config(create_app(database_url), host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{server.config.port}", service
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(tmp_path: Path) -> Iterator["sync_api.Page"]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser.new_page(viewport={"width": 1200, "height": 900})
        browser.close()


def test_card_citations_open_their_sources_and_feedback_is_stored(served, page, tmp_path):
    base, service = served
    refused: list[str] = []  # what the Content-Security-Policy blocked, as Chromium reports it
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.goto(f"{base}/clients/{service.alfa}")
    assert "/login" in page.url
    page.fill("input[name=token]", service.tokens["jcarter"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/clients/{service.alfa}")
    assert page.locator("h1").inner_text() == "Alfa Group"
    assert page.locator("header").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(31, 58, 95)"
    [cookie] = page.context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["value"] != service.tokens["jcarter"]
    assert page.locator("#brief a.cite").count() > 0
    page.screenshot(path=str(tmp_path / "card.png"), full_page=True)

    page.click(f'a.cite[href^="/messages/{service.call_id}?at="]')
    page.wait_for_url(f"{base}/messages/{service.call_id}?at=*#at")
    moment = page.locator("#at")
    assert "current" in moment.get_attribute("class") and moment.is_visible()
    assert any(text in moment.inner_text() for _start, _speaker, text in CALL_LINES)
    page.screenshot(path=str(tmp_path / "transcript.png"))

    page.go_back()
    message_link = page.locator(f'#brief a.cite:not([href^="/messages/{service.call_id}"])').first
    href = message_link.get_attribute("href")
    message_link.click()
    page.wait_for_url(f"{base}{href}")
    assert page.locator("#source pre.body").inner_text().strip()
    assert page.get_by_role("link", name="← Alfa Group").is_visible()

    page.go_back()
    page.get_by_role("button", name="Useful").click()
    page.wait_for_url(f"{base}/clients/{service.alfa}?feedback=useful#feedback")
    assert "was saved" in page.get_by_role("status").inner_text()
    with session_scope() as session:
        rows = [(r.user_id, r.client_id, r.verdict, r.format) for r in session.scalars(select(Feedback))]
        jcarter = access.get_user(session, "jcarter").id
    assert rows == [(jcarter, service.alfa, "useful", "brief")]
    assert refused == []
