"""Client resolution: contacts, hints, company domains, our own side, and direction."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from ingest.records import ParsedInteraction, ParseError, Party
from ingest.resolve import ClientResolver, company_name
from storage import repository
from storage.models import Channel, Contact, ContactKind, Direction
from tests.db import session_scope

AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def mail(sender: str, *to: str, hint: str | None = None, bulk: bool = False) -> ParsedInteraction:
    return ParsedInteraction(
        channel=Channel.EMAIL,
        occurred_at=AT,
        body="Hello",
        source_kind="email",
        source_ref="x",
        author=Party(None, ContactKind.EMAIL, sender),
        recipients=[Party(None, ContactKind.EMAIL, a) for a in to],
        client_hint=hint,
        bulk=bulk,
    )


def crowd(size: int) -> list[str]:
    """Addresses of ``size`` people at as many different companies."""
    return [f"person{number}@company{number}.example" for number in range(size)]


def email_contacts(session) -> set[str]:
    return set(session.scalars(select(Contact.value).where(Contact.kind == ContactKind.EMAIL)))


@pytest.fixture
def session(database_url):
    with session_scope(database_url) as session:
        repository.upsert_user(
            session, login="anna", name="Anna Nowak", email="anna@northwind.example", phone="+48600100200"
        )
        yield session


def resolver(session, **kwargs) -> ClientResolver:
    return ClientResolver(session, internal_domains=["northwind.example"], phone_region="PL", **kwargs)


def test_unknown_company_domain_creates_a_named_client_and_later_mail_finds_it(session):
    r = resolver(session)
    first = r.resolve(mail("ivan@alpha-group.ru", "anna@northwind.example"))
    assert first.direction is Direction.INBOUND
    colleague = r.resolve(mail("anna@northwind.example", "olga@alpha-group.ru"))
    assert colleague.client_id == first.client_id
    assert colleague.direction is Direction.OUTBOUND
    assert repository.find_client(session, "Alpha Group").id == first.client_id
    assert repository.find_client(session, "olga@alpha-group.ru").id == first.client_id
    assert repository.find_client(session, "alpha-group.ru").id == first.client_id


def test_contacts_survive_into_a_new_resolver(session):
    first = resolver(session).resolve(mail("ivan@alpha-group.ru", "anna@northwind.example")).client_id
    assert resolver(session).resolve(mail("anna@northwind.example", "ivan@alpha-group.ru")).client_id == first


def test_freemail_senders_are_separate_clients_named_after_the_person(session):
    r = resolver(session)
    one = r.resolve(
        ParsedInteraction(
            channel=Channel.EMAIL,
            occurred_at=AT,
            body="Hi",
            source_kind="email",
            source_ref="x",
            author=Party("Jan Kowalski", ContactKind.EMAIL, "jan.k@gmail.com"),
            recipients=[Party(None, ContactKind.EMAIL, "anna@northwind.example")],
        )
    )
    other = r.resolve(mail("someone.else@gmail.com", "anna@northwind.example"))
    assert one.client_id != other.client_id
    assert repository.find_client(session, "Jan Kowalski").id == one.client_id


def test_namesake_domains_do_not_merge(session):
    r = resolver(session)
    ru = r.resolve(mail("a@alpha.ru", "anna@northwind.example")).client_id
    com = r.resolve(mail("b@alpha.com", "anna@northwind.example")).client_id
    assert ru != com


def test_hint_matches_a_client_created_from_its_domain(session):
    r = resolver(session)
    by_mail = r.resolve(mail("ivan@kowalski-logistics.pl", "anna@northwind.example")).client_id
    note = ParsedInteraction(
        channel=Channel.NOTE,
        occurred_at=AT,
        body="Prefers calls",
        source_kind="notes",
        source_ref="n",
        author=Party("Unknown Colleague"),
        client_hint="Kowalski Logistics",
    )
    resolution = r.resolve(note)
    assert resolution.client_id == by_mail
    assert resolution.direction is Direction.INTERNAL


def test_chat_parties_by_user_name_are_ours(session):
    r = resolver(session)
    chat = ParsedInteraction(
        channel=Channel.CHAT,
        occurred_at=AT,
        body="ok",
        source_kind="whatsapp",
        source_ref="c",
        author=Party("Anna Nowak"),
        client_hint="Brightline",
    )
    assert r.resolve(chat).direction is Direction.OUTBOUND
    phone_chat = ParsedInteraction(
        channel=Channel.CHAT,
        occurred_at=AT,
        body="ok",
        source_kind="whatsapp",
        source_ref="c",
        author=Party("+48 600 100 200", ContactKind.PHONE, "+48600100200"),
        client_hint="Brightline",
    )
    assert r.resolve(phone_chat).direction is Direction.OUTBOUND


def test_forced_client_wins(session):
    r = resolver(session, forced_client="Beta LLC")
    assert r.resolve(mail("x@alpha-group.ru")).client_id == repository.find_client(session, "Beta LLC").id


def test_internal_only_mail_without_hint_cannot_be_resolved(session):
    with pytest.raises(ParseError, match="cannot tell which client"):
        resolver(session).resolve(mail("anna@northwind.example", "boss@northwind.example"))


def test_mailing_list_mail_makes_only_its_sender_a_contact(session):
    r = resolver(session)
    client_id = r.resolve(
        mail("news@vendor.example", "anna@northwind.example", "ivan@alpha-group.ru", bulk=True)
    ).client_id
    assert email_contacts(session) == {"news@vendor.example"}
    assert r.resolve(mail("ivan@alpha-group.ru", "anna@northwind.example")).client_id != client_id


def test_mail_to_many_recipients_makes_only_its_sender_a_contact(session):
    r = resolver(session)
    client_id = r.resolve(mail("ivan@alpha-group.ru", *crowd(21))).client_id
    assert email_contacts(session) == {"ivan@alpha-group.ru"}
    assert repository.find_client(session, "Alpha Group").id == client_id


def test_mail_to_a_few_recipients_makes_them_all_contacts(session):
    resolver(session).resolve(mail("ivan@alpha-group.ru", *crowd(3)))
    assert email_contacts(session) == {"ivan@alpha-group.ru", *crowd(3)}


def test_known_contacts_among_bulk_recipients_do_not_pick_the_client(session):
    r = resolver(session)
    known = r.resolve(mail("ivan@alpha-group.ru", "anna@northwind.example")).client_id
    assert r.resolve(mail("news@vendor.example", "ivan@alpha-group.ru", bulk=True)).client_id != known
    assert r.resolve(mail("news@vendor.example", "ivan@alpha-group.ru", *crowd(30))).client_id != known


def test_bulk_mail_from_our_side_needs_a_client_hint(session):
    r = resolver(session)
    with pytest.raises(ParseError, match="bulk mail"):
        r.resolve(mail("anna@northwind.example", *crowd(30)))
    hinted = r.resolve(mail("anna@northwind.example", *crowd(30), hint="Beta LLC"))
    assert hinted.client_id == repository.find_client(session, "Beta LLC").id
    assert hinted.direction is Direction.OUTBOUND
    assert email_contacts(session) == set()


def test_our_addresses_on_freemail_are_never_contacts_and_never_merge_clients(session):
    rep = ["rep.on.the.road@gmail.com"]
    r = ClientResolver(session, internal_domains=[], internal_addresses=rep, phone_region="PL")
    alpha = r.resolve(mail("ivan@alpha-group.ru", "rep.on.the.road@gmail.com"))
    beta = r.resolve(mail("rep.on.the.road@gmail.com", "jan@beta-trade.pl"))
    assert alpha.client_id != beta.client_id
    assert (alpha.direction, beta.direction) == (Direction.INBOUND, Direction.OUTBOUND)
    assert email_contacts(session) == {"ivan@alpha-group.ru", "jan@beta-trade.pl"}
    other_gmail = r.resolve(mail("someone@gmail.com", "rep.on.the.road@gmail.com"))
    assert other_gmail.client_id not in (alpha.client_id, beta.client_id)


def test_a_users_freemail_address_leaves_other_freemail_senders_clients(database_url):
    with session_scope(database_url) as session:
        repository.upsert_user(session, login="sam", name="Sam Seller", email="sam.seller@gmail.com")
        resolved = ClientResolver(session, internal_domains=[], phone_region="PL").resolve(
            mail("buyer@gmail.com", "sam.seller@gmail.com")
        )
        assert resolved.direction is Direction.INBOUND
        assert email_contacts(session) == {"buyer@gmail.com"}


@pytest.mark.parametrize(
    "domain, name",
    [("kowalski-logistics.pl", "Kowalski Logistics"), ("mail.brightline.co.uk", "Brightline"), ("acme.com.pl", "Acme")],
)
def test_company_name(domain, name):
    assert company_name(domain) == name
