"""A correction on the client card in real headless Chromium: chosen from the card's claims, saved, and shown on the
reloaded card, in every format and with the author's name, once the refresh ran."""

from datetime import timedelta

import pytest

from tests.test_web_browser import CHROMIUM, page, served, sync_api  # noqa: F401  (the fixtures)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"),
]

from dossier.jobs import dirty_clients, refresh_clients  # noqa: E402

FIX = "Ivan is the new head of purchasing; the Kazan order goes through him."


@pytest.fixture
def served_fresh(monkeypatch):
    """The served card without the server's memory cache, so a refresh shows at the next load."""
    from dossier.settings import get_settings

    monkeypatch.setenv("DOSSIER_SERVE_LOCAL_CACHE_SECONDS", "0")
    get_settings.cache_clear()


def test_a_correction_made_on_the_card_replaces_its_claim_after_the_refresh(served_fresh, served, page):  # noqa: F811
    base, service = served
    page.goto(f"{base}/clients/{service.alfa}")
    page.fill("input[name=token]", service.tokens["jcarter"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/clients/{service.alfa}")

    options = page.locator("#corrections select[name=claim] option")
    assert options.count() > 1
    chosen = next(options.nth(n) for n in range(1, options.count()) if "…" not in options.nth(n).inner_text())
    claim, claim_text = chosen.get_attribute("value"), chosen.inner_text().strip()
    page.select_option("#corrections select[name=claim]", claim)
    page.fill("#corrections textarea[name=text]", FIX)
    page.locator("#corrections button[type=submit]").click()
    page.wait_for_url(f"{base}/clients/{service.alfa}?corrected=1#corrections")
    assert "your correction was saved" in page.locator("#corrections [role=status]").inner_text()

    assert refresh_clients(dirty_clients(debounce=timedelta(0))).failed == {}  # the refresh DAG's jobs
    page.goto(f"{base}/clients/{service.alfa}")
    for section in ("brief", "structured", "timeline", "actions"):
        shown = page.locator(f"#{section} ul.corrections li")
        assert shown.count() == 1, section
        assert shown.inner_text().startswith(f"Correction by James Carter: {FIX}"), section
        assert claim_text not in page.locator(f"#{section}").inner_text(), section
    assert page.locator(f'#corrections option[value="{claim}"]').count() == 0
    page.locator("#brief ul.corrections a.cite").click()
    assert FIX in page.locator("#source pre.body").inner_text()
