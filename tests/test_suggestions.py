"""Suggested CRM updates: what generated messages in en/ru/pl suggest, storing them once, accepting and rejecting
them from the CLI, and the scope-aware JSON export."""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from dossier import jobs
from dossier.cli import app
from dossier.web import create_app
from storage import access, repository
from storage.models import AuditEvent, Contact, CrmSuggestion, Deal, Interaction, SuggestionStatus
from summarizer.notes import SourceItem
from summarizer.suggestions import KnownContact, KnownDeal, NewMessage, Person, SuggestionKind, propose
from tests.db import session_scope

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_ids = count(1)


def message(
    text: str,
    signature: str = "",
    *,
    author: str = "Anna Nowak",
    address: str | None = "anna.nowak@nowak-trade.pl",
    direction: str = "inbound",
    language: str = "en",
    days: int = 0,
) -> NewMessage:
    """A generated e-mail of the client (a fresh interaction id each)."""
    item = SourceItem(
        interaction_id=next(_ids),
        occurred_at=START + timedelta(days=days),
        channel="email",
        direction=direction,
        author=author,
        subject="Re: offer",
        text=text,
        signature=signature,
        language=language,
    )
    return NewMessage(item, address)


def by_kind(suggestions) -> dict[SuggestionKind, list]:
    found: dict[SuggestionKind, list] = {}
    for suggestion in suggestions:
        found.setdefault(suggestion.kind, []).append(suggestion)
    return found


# ------------------------------------------------------------------ extraction


def test_a_signature_of_someone_unknown_is_a_new_contact_with_role_email_and_phone():
    mail = message(
        "Thank you for the quote, we will review it this week.",
        "Kind regards,\nAnna Nowak\nSales Specialist\nNowak Trade Sp. z o.o.\n+48 601 234 567",
    )
    [suggestion] = propose([mail], phone_region="PL")
    assert suggestion.kind == SuggestionKind.NEW_CONTACT
    assert suggestion.payload.person == Person(
        name="Anna Nowak", role="Sales Specialist", email="anna.nowak@nowak-trade.pl", phone="+48601234567"
    )
    assert suggestion.source_ids == [mail.item.interaction_id]


@pytest.mark.parametrize(
    ("language", "author", "signature", "role"),
    [
        ("en", "Tom Baker", "Best regards\nTom Baker\nHead of Purchasing\n+44 20 7946 0958", "Head of Purchasing"),
        (
            "ru",
            "Иван Смирнов",
            "С уважением,\nИван Смирнов\nГенеральный директор\n+7 912 345-67-89",
            "Генеральный директор",
        ),
        (
            "pl",
            "Jan Wiśniewski",
            "Pozdrawiam\nJan Wiśniewski\nKierownik działu zakupów\n601 234 568",
            "Kierownik działu zakupów",
        ),
    ],
)
def test_a_decision_making_title_makes_a_decision_maker(language, author, signature, role):
    mail = message("Please see my notes below.", signature, author=author, address=None, language=language)
    [suggestion] = propose([mail], phone_region="PL")
    assert suggestion.kind == SuggestionKind.DECISION_MAKER
    assert (suggestion.payload.person.name, suggestion.payload.person.role) == (author, role)
    assert suggestion.payload.person.phone.startswith("+")


def test_a_known_person_with_a_new_phone_and_title_gets_a_change_of_each():
    known = [
        KnownContact("email", "tom@baker-foods.co.uk", "Tom Baker", "Account Manager"),
        KnownContact("phone", "+442079460000", "Tom Baker", "Account Manager"),
    ]
    mail = message(
        "Our numbers changed, please update them.",
        "Regards,\nTom Baker\nKey Account Director\n+44 20 7946 0958",
        author="Tom Baker",
        address="tom@baker-foods.co.uk",
    )
    found = by_kind(propose([mail], known, phone_region="GB"))
    [phone] = found[SuggestionKind.PHONE_CHANGE]
    assert (phone.payload.previous.phone, phone.payload.person.phone) == ("+442079460000", "+442079460958")
    assert phone.payload.person.role is None  # a phone change leaves the title alone
    [promoted] = found[SuggestionKind.DECISION_MAKER]
    assert (promoted.payload.previous.role, promoted.payload.person.role) == ("Account Manager", "Key Account Director")


def test_a_known_title_said_again_suggests_nothing_and_our_own_mail_never_does():
    known = [KnownContact("email", "anna.nowak@nowak-trade.pl", "Anna Nowak", "Sales Specialist")]
    again = message("Thanks.", "Pozdrawiam\nAnna Nowak\nSales Specialist")
    ours = message(
        "Here is the offer.",
        "-- \nMaria Lis\nAccount Executive\n+48 22 123 45 67",
        author="Maria Lis",
        address="maria@ourco.example",
        direction="outbound",
    )
    assert propose([again, ours], known, phone_region="PL") == []


@pytest.mark.parametrize(
    ("language", "text", "name", "title"),
    [
        ("en", "Just so you know, the decision maker is Laura Stone.", "Laura Stone", "decision maker"),
        ("ru", "Окончательное решение принимает Ольга Кузнецова.", "Ольга Кузнецова", "лицо, принимающее решение"),
        ("pl", "Ostateczną decyzję podejmuje Ewa Zielińska.", "Ewa Zielińska", "decydent"),
    ],
)
def test_someone_named_as_the_decision_maker_is_one(language, text, name, title):
    known = [KnownContact("email", "person@client.example", name, "Analyst")]
    [suggestion] = propose([message(text, language=language, address=None)], known)
    assert suggestion.kind == SuggestionKind.DECISION_MAKER
    assert suggestion.payload.person.role == f"Analyst, {title}"


@pytest.mark.parametrize(
    ("language", "text", "stage"),
    [
        ("en", "Good news: we signed the contract this morning.", "won"),
        ("en", "Unfortunately we have chosen another supplier for this project.", "lost"),
        ("ru", "Добрый день! Договор подписан, оригиналы отправим почтой.", "won"),
        ("ru", "К сожалению, мы выбрали другого поставщика.", "lost"),
        ("pl", "Podpisaliśmy umowę, dziękujemy za współpracę.", "won"),
        ("pl", "Niestety wybraliśmy innego dostawcę.", "lost"),
    ],
)
def test_the_conversation_implies_the_open_deals_stage(language, text, stage):
    deals = [
        KnownDeal("D-1", "Old deal", "won", START - timedelta(days=90)),
        KnownDeal("D-2", "Terminals", "negotiation", START - timedelta(days=3)),
    ]
    mail = message(text, language=language, days=1)
    [suggestion] = propose([mail], deals=deals)
    assert suggestion.kind == SuggestionKind.DEAL_STAGE
    assert (suggestion.payload.deal_id, suggestion.payload.previous_stage, suggestion.payload.stage) == (
        "D-2",
        "negotiation",
        stage,
    )
    assert suggestion.payload.evidence in text and suggestion.source_ids == [mail.item.interaction_id]


@pytest.mark.parametrize(
    "text",
    [
        "We have not signed the contract yet.",
        "Мы не подписали договор.",
        "Nie podpisaliśmy umowy.",
        "Will you sign it soon?",
    ],
)
def test_no_stage_without_a_statement_that_it_happened(text):
    deals = [KnownDeal("D-2", "Terminals", "negotiation", START - timedelta(days=3))]
    assert propose([message(text, days=1)], deals=deals) == []


def test_no_stage_from_before_the_deal_last_changed_or_without_an_open_deal():
    signed = message("We signed the contract.", days=-10)
    assert propose([signed], deals=[KnownDeal("D-2", None, "proposal", START)]) == []
    assert propose([message("We signed the contract.", days=1)], deals=[KnownDeal("D-1", None, "won", START)]) == []


def test_the_same_suggestion_from_several_messages_is_one_citing_all():
    signature = "Best regards\nAnna Nowak\nSales Specialist\n+48 601 234 567"
    first, second = message("Hello.", signature), message("Hello again.", signature, days=2)
    [suggestion] = propose([second, first], phone_region="PL")
    assert suggestion.source_ids == [first.item.interaction_id, second.item.interaction_id]


# ------------------------------------------------------------------ storage, job, CLI, API


def add_interaction(
    session, client_id: int, body: str, signature: str = "", *, author_contact: str, scope: str = "all", days: int = 0
) -> int:
    row = Interaction(
        client_id=client_id,
        channel="email",
        direction="inbound",
        author="Anna Nowak",
        author_contact=author_contact,
        occurred_at=START + timedelta(days=days),
        language="en",
        subject="Re: terminals",
        body=body,
        signature=signature,
        source_kind="email",
        source_ref=f"<{body}@test>",
        content_hash=hashlib.sha256(f"{client_id}:{body}:{signature}".encode()).hexdigest(),
        scope=scope,
    )
    session.add(row)
    session.flush()
    return row.id


ANNA = "anna@nowak-trade.pl"
SIGNATURE = "Kind regards,\nAnna Nowak\nHead of Procurement\n+48 601 234 567"


@pytest.fixture
def client_with_history(database_url):
    """A client whose history holds a signature of someone new, a signed contract and an open deal."""
    with session_scope() as session:
        client_id = repository.get_or_create_client(session, "Nowak Trade")
        repository.upsert_deal(
            session, client_id, "D-7", name="Terminals", stage="negotiation", amount=None, currency=None, at=START
        )
        add_interaction(session, client_id, "Here are my details.", SIGNATURE, author_contact=ANNA)
        add_interaction(session, client_id, "We signed the contract today.", author_contact=ANNA, days=1)
        repository.upsert_user(session, login="ana", name="Ana Rep")
    return client_id


def stored() -> list[tuple[str, str, list[int]]]:
    with session_scope() as session:
        return [
            (s.kind, s.status, s.source_ids) for s in session.scalars(select(CrmSuggestion).order_by(CrmSuggestion.id))
        ]


def test_the_job_stores_each_suggestion_once_and_a_rejected_one_never_again(client_with_history):
    client_id = client_with_history
    assert jobs.propose_suggestions() == [client_id]
    assert [kind for kind, _status, _sources in stored()] == ["decision_maker", "deal_stage"]
    assert jobs.propose_suggestions() == []  # nothing new since
    with session_scope() as session:
        session.execute(
            update(CrmSuggestion)
            .where(CrmSuggestion.kind == "decision_maker")
            .values(status=SuggestionStatus.REJECTED, decided_by="ana")
        )
        later = add_interaction(session, client_id, "Same person again.", SIGNATURE, author_contact=ANNA, days=2)
        again = add_interaction(session, client_id, "We signed the contract, as said.", author_contact=ANNA, days=3)
    assert jobs.propose_suggestions() == []  # nothing new to suggest
    (person_kind, person_status, person_sources), (_kind, _status, stage_sources) = stored()
    assert (person_kind, person_status) == ("decision_maker", "rejected") and later not in person_sources
    assert again in stage_sources  # a pending suggestion proposed again cites the new source too


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_cli_lists_accepts_and_rejects(client_with_history):
    client_id = client_with_history
    assert invoke("suggestions", "propose").exit_code == 0
    listed = invoke("suggestions", "list", "Nowak Trade", "--json")
    assert listed.exit_code == 0, listed.output
    person, stage = json.loads(listed.output)
    assert person["payload"]["person"]["role"] == "Head of Procurement" and stage["payload"]["stage"] == "won"
    table = invoke("suggestions", "list")
    assert "Procurement" in table.output and "Nowak Trade" in table.output
    assert "decision maker" in table.output and "decision_maker" not in table.output

    accepted = invoke("suggestions", "accept", str(person["id"]), "--by", "ana")
    assert accepted.exit_code == 0, accepted.output
    with session_scope() as session:
        contacts = {(c.kind, c.value, c.display_name, c.role) for c in session.scalars(select(Contact))}
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "suggestion.accept")).one()
        ana = access.get_user(session, "ana").id
    assert ("email", "anna@nowak-trade.pl", "Anna Nowak", "Head of Procurement") in contacts
    assert ("phone", "+48601234567", "Anna Nowak", "Head of Procurement") in contacts
    assert (audit.user_id, audit.client_id, audit.detail["suggestion_id"]) == (ana, client_id, person["id"])

    again = invoke("suggestions", "accept", str(person["id"]), "--by", "ana")
    assert again.exit_code != 0 and "accepted by ana already" in str(again.exception)

    assert invoke("suggestions", "reject", str(stage["id"]), "--by", "ana").exit_code == 0
    with session_scope() as session:
        deal = session.scalars(select(Deal)).one()
        decided = session.get(CrmSuggestion, stage["id"])
    assert deal.stage == "negotiation" and (decided.status, decided.decided_by) == ("rejected", "ana")
    assert json.loads(invoke("suggestions", "list", "--json").output) == []


def test_accepting_a_stage_moves_the_deal_with_a_deal_event(client_with_history):
    jobs.propose_suggestions()
    with session_scope() as session:
        stage = session.scalars(select(CrmSuggestion).where(CrmSuggestion.kind == "deal_stage")).one()
    assert invoke("suggestions", "accept", str(stage.id), "--by", "ana").exit_code == 0
    with session_scope() as session:
        deal = session.scalars(select(Deal)).one()
        event = session.scalars(select(Interaction).where(Interaction.channel == "deal_event")).one()
    assert deal.stage == "won" and event.deal_id == deal.id
    assert event.body.startswith("Deal Terminals (D-7) moved to stage won.")


def test_the_api_exports_only_suggestions_whose_sources_the_reader_may_read(client_with_history, database_url):
    client_id = client_with_history
    with session_scope() as session:
        add_interaction(
            session,
            client_id,
            "Board note.",
            "Regards\nPiotr Lis\nChief Financial Officer\n+48 601 999 888",
            author_contact="piotr@nowak-trade.pl",
            scope="management",
        )
        repository.upsert_user(session, login="boss", name="Bea Boss", team="Board")
        access.grant_scope(session, "management", team="Board")
        tokens = {login: access.create_token(session, login) for login in ("ana", "boss")}
    jobs.propose_suggestions()
    web = TestClient(create_app(database_url))

    def names(login: str, **params: str) -> list[str]:
        answer = web.get("/api/suggestions", params=params, headers={"Authorization": f"Bearer {tokens[login]}"})
        assert answer.status_code == 200, answer.text
        return sorted(s["payload"].get("person", {}).get("name", s["kind"]) for s in answer.json()["suggestions"])

    assert names("ana") == ["Anna Nowak", "deal_stage"]
    assert names("boss") == ["Anna Nowak", "Piotr Lis", "deal_stage"]
    assert names("boss", client="Nowak Trade", status="accepted") == []
    assert web.get("/api/suggestions").status_code == 401
    missing = web.get(
        "/api/suggestions", params={"client": "nobody"}, headers={"Authorization": f"Bearer {tokens['ana']}"}
    )
    assert missing.status_code == 404


def test_the_card_decides_only_what_the_reader_may_read_and_only_once(client_with_history, database_url):
    client_id = client_with_history
    with session_scope() as session:
        add_interaction(
            session,
            client_id,
            "Board note.",
            "Regards\nPiotr Lis\nChief Financial Officer\n+48 601 999 888",
            author_contact="piotr@nowak-trade.pl",
            scope="management",
        )
        token = access.create_token(session, "ana")
    jobs.propose_suggestions()
    with session_scope() as session:
        hidden, shown = (
            session.scalars(
                select(CrmSuggestion.id).where(CrmSuggestion.payload["person"]["name"].as_string() == name)
            ).one()
            for name in ("Piotr Lis", "Anna Nowak")
        )
    web = TestClient(create_app(database_url), follow_redirects=False)
    auth = {"Authorization": f"Bearer {token}"}
    card = web.get(f"/clients/{client_id}", headers=auth).text
    assert f'id="suggestion-{shown}"' in card and f'id="suggestion-{hidden}"' not in card
    assert web.post(f"/clients/{client_id}/suggestions/{hidden}/accept", headers=auth).status_code == 404
    accepted = web.post(f"/clients/{client_id}/suggestions/{shown}/accept", headers=auth)
    assert (accepted.status_code, accepted.headers["location"]) == (
        303,
        f"/clients/{client_id}?suggestion=accepted#suggestions",
    )
    again = web.post(f"/clients/{client_id}/suggestions/{shown}/reject", headers=auth)
    assert again.status_code == 409 and "accepted by ana already" in again.text
    with session_scope() as session:
        assert session.get(CrmSuggestion, hidden).status == SuggestionStatus.PENDING
        assert session.get(CrmSuggestion, shown).status == SuggestionStatus.ACCEPTED
