"""Client resolution: contacts, hints, company domains, our own side, and direction."""

import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select

from ingest.records import ParsedInteraction, ParseError, Party
from ingest.resolve import ClientResolver, Resolution, company_name
from storage import repository
from storage.models import Channel, Client, Contact, ContactKind, Direction
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


def stored(r: ClientResolver, item: ParsedInteraction) -> Resolution:
    """``item`` resolved, and what that decided stored as an import stores it: the resolution with the stored id."""
    resolution = r.resolve(item)
    stored_ids = r.store_new()
    return replace(resolution, client_id=stored_ids.get(resolution.client_id, resolution.client_id))


def test_unknown_company_domain_creates_a_named_client_and_later_mail_finds_it(session):
    r = resolver(session)
    first = stored(r, mail("ivan@alpha-group.ru", "anna@northwind.example"))
    assert first.direction is Direction.INBOUND
    colleague = stored(r, mail("anna@northwind.example", "olga@alpha-group.ru"))
    assert colleague.client_id == first.client_id
    assert colleague.direction is Direction.OUTBOUND
    assert repository.find_client(session, "Alpha Group").id == first.client_id
    assert repository.find_client(session, "olga@alpha-group.ru").id == first.client_id
    assert repository.find_client(session, "alpha-group.ru").id == first.client_id


def test_contacts_survive_into_a_new_resolver(session):
    first = stored(resolver(session), mail("ivan@alpha-group.ru", "anna@northwind.example")).client_id
    assert stored(resolver(session), mail("anna@northwind.example", "ivan@alpha-group.ru")).client_id == first


def test_freemail_senders_are_separate_clients_named_after_the_person(session):
    r = resolver(session)
    one = stored(
        r,
        ParsedInteraction(
            channel=Channel.EMAIL,
            occurred_at=AT,
            body="Hi",
            source_kind="email",
            source_ref="x",
            author=Party("Jan Kowalski", ContactKind.EMAIL, "jan.k@gmail.com"),
            recipients=[Party(None, ContactKind.EMAIL, "anna@northwind.example")],
        ),
    )
    other = stored(r, mail("someone.else@gmail.com", "anna@northwind.example"))
    assert one.client_id != other.client_id
    assert repository.find_client(session, "Jan Kowalski").id == one.client_id


def test_namesake_domains_do_not_merge(session):
    r = resolver(session)
    ru = stored(r, mail("a@alpha.ru", "anna@northwind.example")).client_id
    com = stored(r, mail("b@alpha.com", "anna@northwind.example")).client_id
    assert ru != com


def test_hint_matches_a_client_created_from_its_domain(session):
    r = resolver(session)
    by_mail = stored(r, mail("ivan@kowalski-logistics.pl", "anna@northwind.example")).client_id
    note = ParsedInteraction(
        channel=Channel.NOTE,
        occurred_at=AT,
        body="Prefers calls",
        source_kind="notes",
        source_ref="n",
        author=Party("Unknown Colleague"),
        client_hint="Kowalski Logistics",
    )
    resolution = stored(r, note)
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
    assert stored(r, chat).direction is Direction.OUTBOUND
    phone_chat = ParsedInteraction(
        channel=Channel.CHAT,
        occurred_at=AT,
        body="ok",
        source_kind="whatsapp",
        source_ref="c",
        author=Party("+48 600 100 200", ContactKind.PHONE, "+48600100200"),
        client_hint="Brightline",
    )
    assert stored(r, phone_chat).direction is Direction.OUTBOUND


def test_forced_client_wins(session):
    r = resolver(session, forced_client="Beta LLC")
    assert stored(r, mail("x@alpha-group.ru")).client_id == repository.find_client(session, "Beta LLC").id


def test_internal_only_mail_without_hint_cannot_be_resolved(session):
    with pytest.raises(ParseError, match="cannot tell which client"):
        stored(resolver(session), mail("anna@northwind.example", "boss@northwind.example"))


def test_mailing_list_mail_makes_only_its_sender_a_contact(session):
    r = resolver(session)
    client_id = stored(
        r, mail("news@vendor.example", "anna@northwind.example", "ivan@alpha-group.ru", bulk=True)
    ).client_id
    assert email_contacts(session) == {"news@vendor.example"}
    assert stored(r, mail("ivan@alpha-group.ru", "anna@northwind.example")).client_id != client_id


def test_mail_to_many_recipients_makes_only_its_sender_a_contact(session):
    r = resolver(session)
    client_id = stored(r, mail("ivan@alpha-group.ru", *crowd(21))).client_id
    assert email_contacts(session) == {"ivan@alpha-group.ru"}
    assert repository.find_client(session, "Alpha Group").id == client_id


def test_mail_to_a_few_recipients_makes_them_all_contacts(session):
    stored(resolver(session), mail("ivan@alpha-group.ru", *crowd(3)))
    assert email_contacts(session) == {"ivan@alpha-group.ru", *crowd(3)}


def test_known_contacts_among_bulk_recipients_do_not_pick_the_client(session):
    r = resolver(session)
    known = stored(r, mail("ivan@alpha-group.ru", "anna@northwind.example")).client_id
    assert stored(r, mail("news@vendor.example", "ivan@alpha-group.ru", bulk=True)).client_id != known
    assert stored(r, mail("news@vendor.example", "ivan@alpha-group.ru", *crowd(30))).client_id != known


def test_bulk_mail_from_our_side_needs_a_client_hint(session):
    r = resolver(session)
    with pytest.raises(ParseError, match="bulk mail"):
        stored(r, mail("anna@northwind.example", *crowd(30)))
    hinted = stored(r, mail("anna@northwind.example", *crowd(30), hint="Beta LLC"))
    assert hinted.client_id == repository.find_client(session, "Beta LLC").id
    assert hinted.direction is Direction.OUTBOUND
    assert email_contacts(session) == set()


def test_our_addresses_on_freemail_are_never_contacts_and_never_merge_clients(session):
    rep = ["rep.on.the.road@gmail.com"]
    r = ClientResolver(session, internal_domains=[], internal_addresses=rep, phone_region="PL")
    alpha = stored(r, mail("ivan@alpha-group.ru", "rep.on.the.road@gmail.com"))
    beta = stored(r, mail("rep.on.the.road@gmail.com", "jan@beta-trade.pl"))
    assert alpha.client_id != beta.client_id
    assert (alpha.direction, beta.direction) == (Direction.INBOUND, Direction.OUTBOUND)
    assert email_contacts(session) == {"ivan@alpha-group.ru", "jan@beta-trade.pl"}
    other_gmail = stored(r, mail("someone@gmail.com", "rep.on.the.road@gmail.com"))
    assert other_gmail.client_id not in (alpha.client_id, beta.client_id)


def test_a_users_freemail_address_leaves_other_freemail_senders_clients(database_url):
    with session_scope(database_url) as session:
        repository.upsert_user(session, login="sam", name="Sam Seller", email="sam.seller@gmail.com")
        resolved = stored(
            ClientResolver(session, internal_domains=[], phone_region="PL"),
            mail("buyer@gmail.com", "sam.seller@gmail.com"),
        )
        assert resolved.direction is Direction.INBOUND
        assert email_contacts(session) == {"buyer@gmail.com"}


@pytest.mark.parametrize(
    "domain, name",
    [("kowalski-logistics.pl", "Kowalski Logistics"), ("mail.brightline.co.uk", "Brightline"), ("acme.com.pl", "Acme")],
)
def test_company_name(domain, name):
    assert company_name(domain) == name


# ------------------------------------------------------------------ bulk path: decided in memory, stored per batch


def generated_mails(count: int, seed: int) -> list[ParsedInteraction]:
    """Mail among a few companies, freemail senders and our side, some with hints, some bulk (never from us)."""
    rng = random.Random(seed)
    companies = [f"firma-{word}.pl" for word in ("alfa", "beta", "gamma", "delta", "sigma", "omega")]
    people = [f"p{n}@{rng.choice(companies)}" for n in range(12)] + [f"solo{n}@gmail.com" for n in range(4)]
    mails = []
    for _ in range(count):
        counterpart = rng.choice(people)
        others = rng.sample(people, rng.choice([0, 0, 0, 1, 2]))
        ours = "anna@northwind.example"
        sender, *to = (counterpart, ours, *others) if rng.random() < 0.5 else (ours, counterpart, *others)
        hint = rng.choice([None, None, None, "Hinted Client", f"hint-{rng.randint(0, 3)}.de"])
        mails.append(mail(sender, *to, hint=hint, bulk=sender == counterpart and rng.random() < 0.2))
    return mails


def clients_and_contacts(session) -> dict[str, set[tuple[str, str]]]:
    rows = session.execute(select(Client.name, Contact.kind, Contact.value).join(Contact, isouter=True)).all()
    found: dict[str, set[tuple[str, str]]] = {}
    for name, kind, value in rows:
        found.setdefault(name, set()).update([(kind, value)] if value else [])
    return found


def test_resolving_writes_nothing_until_the_batch_is_stored(session):
    r = resolver(session)
    provisional = r.resolve(mail("ivan@alpha-group.ru", "anna@northwind.example")).client_id
    assert repository.find_client(session, "Alpha Group") is None and email_contacts(session) == set()
    stored_id = r.store_new()[provisional]
    assert repository.find_client(session, "Alpha Group").id == stored_id
    assert email_contacts(session) == {"ivan@alpha-group.ru"}
    assert r.resolve(mail("anna@northwind.example", "ivan@alpha-group.ru")).client_id == stored_id


@pytest.mark.parametrize("seed", range(3))
def test_storing_per_batch_makes_the_same_clients_and_contacts_as_storing_each_message(database_url, seed):
    mails = generated_mails(60, seed)
    outcomes = []
    for batch in (1, 7, len(mails)):
        with session_scope(database_url) as session:
            session.execute(delete(Contact))
            session.execute(delete(Client))
            r = resolver(session)
            names = []
            for start in range(0, len(mails), batch):
                resolutions = [r.resolve(item) for item in mails[start : start + batch]]
                stored_ids = r.store_new()
                names += [session.get(Client, stored_ids.get(x.client_id, x.client_id)).name for x in resolutions]
            outcomes.append((names, clients_and_contacts(session)))
            session.rollback()
    assert outcomes[0] == outcomes[1] == outcomes[2]
    assert len(outcomes[0][1]) > 3  # the corpus makes several clients


def test_a_client_and_contact_stored_meanwhile_by_another_import_are_kept(database_url, session):
    session.commit()
    r = resolver(session)
    provisional = r.resolve(mail("ivan@alpha-group.ru", "anna@northwind.example")).client_id
    with session_scope(database_url) as other:
        other_id = stored(resolver(other), mail("olga@beta-trade.pl", "ivan@alpha-group.ru")).client_id
        alpha_id = stored(resolver(other), mail("x@alpha-group.ru", "anna@northwind.example")).client_id
        other.commit()
    assert r.store_new()[provisional] == alpha_id
    assert session.scalar(select(Contact.client_id).where(Contact.value == "ivan@alpha-group.ru")) == other_id
    assert r.resolve(mail("ivan@alpha-group.ru", "anna@northwind.example")).client_id == other_id
