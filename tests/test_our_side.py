"""Our own side known without configuration: the hubs of who writes to whom are our mailbox owners."""

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import select

from bench.corpus import OUR_DOMAIN, generate_email_corpus
from ingest import mail as mail_parser
from ingest.normalize import normalize_party
from ingest.options import ImportOptions
from ingest.ourside import Correspondence, OurSide, message_addresses
from storage import repository
from storage.models import Client, Contact, ContactKind, Direction, Interaction
from tests.db import import_paths, session_scope
from tests.parser_helpers import write_mbox

AT = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
REP = "rep@seller-house.pl"


def message(sender: str, *to: str, number: int) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"] = sender, ", ".join(to)
    mail["Subject"] = f"Order {number}"
    mail["Date"] = format_datetime(AT + timedelta(hours=number))
    mail["Message-ID"] = f"<m{number}@{sender.split('@')[1]}>"
    mail.set_content(f"About order {number}.")
    return mail


def exchange(rep: str, companies: list[str]) -> list[EmailMessage]:
    """Each company's buyer writes to ``rep`` and gets an answer."""
    messages = []
    for index, domain in enumerate(companies):
        buyer = f"buyer@{domain}"
        messages += [message(buyer, rep, number=2 * index), message(rep, buyer, number=2 * index + 1)]
    return messages


def client_names(url: str) -> set[str]:
    with session_scope(url) as session:
        return set(session.scalars(select(Client.name)))


def email_contacts(url: str) -> set[str]:
    with session_scope(url) as session:
        return set(session.scalars(select(Contact.value).where(Contact.kind == ContactKind.EMAIL)))


def directions(url: str) -> dict[str, str]:
    with session_scope(url) as session:
        return dict(session.execute(select(Interaction.subject, Interaction.direction)).all())


COMPANIES = ["tarnow-steel.pl", "lublin-paper.pl", "opole-glass.pl"]


def test_three_companies_mailing_one_rep_are_three_clients_without_configuration(database_url, tmp_path):
    report = import_paths([write_mbox(tmp_path / "box.mbox", exchange(REP, COMPANIES))])
    assert report.quarantined == 0
    assert client_names(database_url) == {"Tarnow Steel", "Lublin Paper", "Opole Glass"}
    assert REP not in email_contacts(database_url)
    assert directions(database_url) == {
        f"Order {n}": Direction.OUTBOUND if n % 2 else Direction.INBOUND for n in range(2 * len(COMPANIES))
    }


def test_two_companies_writing_to_one_rep_are_not_merged(database_url, tmp_path):
    messages = [message("anna@tarnow-steel.pl", REP, number=1), message("olek@lublin-paper.pl", REP, number=2)]
    import_paths([write_mbox(tmp_path / "box.mbox", messages)])
    assert client_names(database_url) == {"Tarnow Steel", "Lublin Paper"}
    assert email_contacts(database_url) == {"anna@tarnow-steel.pl", "olek@lublin-paper.pl"}


def test_a_rep_on_freemail_is_ours_but_other_freemail_senders_stay_clients(database_url, tmp_path):
    rep = "seller.rep@gmail.com"
    messages = [*exchange(rep, COMPANIES[:2]), message("private.buyer@gmail.com", rep, number=9)]
    import_paths([write_mbox(tmp_path / "box.mbox", messages)])
    assert client_names(database_url) == {"Tarnow Steel", "Lublin Paper", "private.buyer@gmail.com"}
    assert rep not in email_contacts(database_url)
    assert "private.buyer@gmail.com" in email_contacts(database_url)


def test_our_side_is_remembered_for_a_later_import_of_one_message(database_url, tmp_path):
    import_paths([write_mbox(tmp_path / "first.mbox", exchange(REP, COMPANIES))])
    import_paths([write_mbox(tmp_path / "later.mbox", [message("eva@gdansk-amber.pl", REP, number=20)])])
    import_paths([write_mbox(tmp_path / "last.mbox", [message("jan@torun-bakery.pl", REP, number=21)])])
    assert {"Gdansk Amber", "Torun Bakery"} <= client_names(database_url)
    assert REP not in email_contacts(database_url)


def test_configured_internal_domains_win_over_the_inference(database_url, tmp_path):
    path = write_mbox(tmp_path / "box.mbox", exchange(REP, COMPANIES))
    import_paths([path], options=ImportOptions(internal_domains=("tarnow-steel.pl",)))
    assert "Tarnow Steel" not in client_names(database_url)
    assert "Seller House" in client_names(database_url)


def test_a_users_freemail_address_does_not_make_the_freemail_domain_ours(database_url, tmp_path):
    with session_scope() as session:
        repository.upsert_user(session, login="rep", name="Sam Seller", email="sam.seller@gmail.com")
    import_paths([write_mbox(tmp_path / "box.mbox", [message("buyer@gmail.com", "sam.seller@gmail.com", number=1)])])
    assert client_names(database_url) == {"buyer@gmail.com"}


def test_bench_corpus_without_configuration_finds_as_many_clients_as_with_it(tmp_path):
    paths = generate_email_corpus(tmp_path / "corpus", emails=200, clients=50, workers=1)
    configured, inferred = (f"sqlite:///{tmp_path / name}.db" for name in ("configured", "inferred"))
    for url in (configured, inferred):
        from storage.db import upgrade_schema

        upgrade_schema(url)
    import_paths(paths, database_url=configured, options=ImportOptions(internal_domains=(OUR_DOMAIN,)))
    import_paths(paths, database_url=inferred)
    assert client_names(inferred) == client_names(configured)
    assert len(client_names(configured)) > 40


def test_an_outsider_copied_on_our_threads_is_not_ours():
    correspondence = Correspondence()
    clients = [f"buyer@client{n}.pl" for n in range(6)]
    for buyer in clients:
        correspondence.add_addresses([buyer, REP, "agent@carrier.pl"])
        correspondence.add_addresses([REP, buyer])
    assert correspondence.our_side() == OurSide(domains=frozenset({"seller-house.pl"}))


def test_a_second_rep_with_clients_of_their_own_is_ours_too():
    correspondence = Correspondence()
    for n in range(5):
        correspondence.add_addresses([f"buyer@big{n}.pl", REP])
    for n in range(3):
        correspondence.add_addresses([f"buyer@small{n}.pl", "second.rep@gmail.com"])
    correspondence.add_addresses([REP, "second.rep@gmail.com"])
    assert correspondence.our_side() == OurSide(
        domains=frozenset({"seller-house.pl"}), addresses=frozenset({"second.rep@gmail.com"})
    )


def test_one_company_alone_cannot_tell_us_apart():
    correspondence = Correspondence()
    correspondence.add_addresses(["buyer@client.pl", REP])
    assert correspondence.our_side() == OurSide()


def test_reading_only_the_headers_finds_what_parsing_whole_messages_finds(tmp_path):
    paths = generate_email_corpus(tmp_path / "corpus", emails=300, clients=30, seed=4, workers=1)
    bulk = message("news@list-vendor.example", *[f"p{n}@c{n}.example" for n in range(25)], number=99)
    bulk["List-Id"] = "<news.list-vendor.example>"
    paths.append(write_mbox(tmp_path / "extra.mbox", [*exchange(REP, ["a.example", "b.example"]), bulk]))
    options = ImportOptions()
    whole, headers = Correspondence(), Correspondence()
    for path in paths:
        for item in mail_parser.parse(path, options.zone):
            item.author = normalize_party(item.author, options.default_phone_region)
            item.recipients = [normalize_party(party, options.default_phone_region) for party in item.recipients]
            whole.add_item(item)
        for addresses in message_addresses(path, mail_parser.SOURCE_KIND, options):
            headers.add_addresses(addresses)
    found = whole.our_side()
    assert headers.our_side() == found
    assert found.domains == {OUR_DOMAIN, "seller-house.pl"}
