"""Suggested CRM updates on the client card in real headless Chromium: accept writes the contact, reject records
who rejected."""

import pytest
from sqlalchemy import select

from dossier import jobs
from storage.models import Contact, CrmSuggestion
from tests.db import session_scope
from tests.test_web_browser import CHROMIUM, page, served  # noqa: F401 - the fixtures, by import

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"),
]


def pending(client_id: int, kind: str) -> CrmSuggestion:
    with session_scope() as session:
        return session.scalars(
            select(CrmSuggestion)
            .where(CrmSuggestion.client_id == client_id, CrmSuggestion.kind == kind)
            .order_by(CrmSuggestion.id)
        ).first()


def test_accept_writes_the_contact_and_reject_records_who_rejected(served, page):  # noqa: F811 - fixtures
    base, service = served
    assert service.alfa in jobs.propose_suggestions()
    phone = pending(service.alfa, "phone_change")
    promoted = pending(service.alfa, "decision_maker")
    new_phone, person = phone.payload["person"]["phone"], phone.payload["person"]["name"]

    page.goto(f"{base}/clients/{service.alfa}")
    page.fill("input[name=token]", service.tokens["jcarter"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/clients/{service.alfa}")
    item = page.locator(f"#suggestion-{phone.id}")
    assert "Changed phone" in item.inner_text() and new_phone in item.inner_text()
    assert item.locator("a.cite").count() == len(phone.source_ids)

    item.get_by_role("button", name="Accept").click()
    page.wait_for_url(f"{base}/clients/{service.alfa}?suggestion=accepted#suggestions")
    assert "Accepted" in page.get_by_role("status").inner_text()
    assert page.locator(f"#suggestion-{phone.id}").count() == 0
    assert f"phone: {new_phone} ({person}" in page.locator("section").first.inner_text()
    with session_scope() as session:
        contact = session.scalars(select(Contact).where(Contact.value == new_phone)).one()
        accepted = session.get(CrmSuggestion, phone.id)
    assert (contact.client_id, contact.kind, contact.display_name) == (service.alfa, "phone", person)
    assert (accepted.status, accepted.decided_by) == ("accepted", "jcarter")

    page.locator(f"#suggestion-{promoted.id}").get_by_role("button", name="Reject").click()
    page.wait_for_url(f"{base}/clients/{service.alfa}?suggestion=rejected#suggestions")
    assert page.locator(f"#suggestion-{promoted.id}").count() == 0
    with session_scope() as session:
        rejected = session.get(CrmSuggestion, promoted.id)
    assert (rejected.status, rejected.decided_by) == ("rejected", "jcarter")
