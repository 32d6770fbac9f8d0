"""IMAP sources against a real Dovecot on loopback (tests/dovecot.py): incremental, restartable, per-mailbox errors.

Every sync goes through a ``FetchProxy``, which counts the UIDs the client asks for on the wire: "nothing
fetched twice" is checked there, not by trusting the code under test.
"""

import imaplib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from dossier import jobs
from dossier.cli import app
from dossier.imap_sync import NewImapSource, add_imap_source, sync_source, sync_sources
from ingest.imap import Mailbox, Security, sync_mailbox
from storage.errors import DossierError
from storage.models import ImapSource, Interaction, QuarantineItem
from tests.db import session_scope
from tests.dovecot import PASSWORD, Dovecot, FetchProxy, dovecot_binary, running_dovecot

OUR_DOMAIN = "ourco.example"
runner = CliRunner()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    binary = dovecot_binary()
    if binary is None:
        pytest.skip("no dovecot binary: apt-get install dovecot-imapd (./setup.sh --dev installs it)")
    with running_dovecot(binary) as server:
        yield server


@pytest.fixture
def proxy(dovecot: Dovecot) -> Iterator[FetchProxy]:
    counting = FetchProxy(dovecot.port)
    yield counting
    counting.close()


def message(number: int, *, sender: str, to: str) -> bytes:
    """A generated e-mail, its Message-ID unique to the number and the parties."""
    mail = EmailMessage()
    mail["From"], mail["To"] = sender, to
    mail["Subject"] = f"Order {number}"
    mail["Date"] = format_datetime(datetime(2025, 3, 1, 9, tzinfo=UTC) + timedelta(hours=number))
    mail["Message-ID"] = f"<order-{number}.{sender.replace('@', '.')}@mail.example>"
    mail.set_content(f"Please confirm order {number}: {number * 3} pallets, delivery in week {number + 10}.\n")
    return mail.as_bytes()


class Account:
    """A Dovecot user with a client correspondent: seeds INBOX (from the client) and Sent (to the client)."""

    def __init__(self, server: Dovecot):
        self.server = server
        self.user = server.new_user()
        self.address = f"{self.user}@{OUR_DOMAIN}"
        self.client_address = f"buyer@{self.user}-client.example"
        with server.client(self.user) as connection:
            connection.create("Sent")

    def receive(self, *numbers: int, folder: str = "INBOX") -> None:
        self.append(folder, *(message(n, sender=self.client_address, to=self.address) for n in numbers))

    def send(self, *numbers: int) -> None:
        self.append("Sent", *(message(n, sender=self.address, to=self.client_address) for n in numbers))

    def append(self, folder: str, *raw_messages: bytes) -> None:
        with self.server.client(self.user) as connection:
            for raw in raw_messages:
                assert connection.append(folder, "", "", raw)[0] == "OK"

    def recreate(self, folder: str) -> None:
        """Delete and create the folder again: the server gives it a new UIDVALIDITY."""
        with self.server.client(self.user) as connection:
            assert connection.delete(folder)[0] == "OK" and connection.create(folder)[0] == "OK"

    def uids(self, folder: str) -> list[int]:
        with self.server.client(self.user) as connection:
            connection.select(folder, readonly=True)
            return [int(uid) for uid in connection.uid("SEARCH", "ALL")[1][0].split()]

    def source(self, port: int, monkeypatch: pytest.MonkeyPatch, *, password: str = PASSWORD, **fields: object) -> str:
        """Register the account as an IMAP source on ``port``, its password in an environment variable."""
        variable = f"IMAP_PASSWORD_{self.user.upper()}"
        monkeypatch.setenv(variable, password)
        new = NewImapSource(
            name=self.user,
            host="127.0.0.1",
            port=port,
            user=self.user,
            address=self.address,
            security=Security.PLAIN,
            password_env=variable,
            **fields,  # type: ignore[arg-type]
        )
        return add_imap_source(new).name

    def mailbox(self, port: int, folders: tuple[str, ...] = ("INBOX",)) -> Mailbox:
        return Mailbox(self.user, "127.0.0.1", port, self.user, PASSWORD, Security.PLAIN, self.address, folders)


def stored_directions() -> dict[str, int]:
    with session_scope() as session:
        rows = session.execute(select(Interaction.direction, func.count()).group_by(Interaction.direction))
        return {str(direction): int(count) for direction, count in rows.all()}


def source_id(name: str) -> int:
    with session_scope() as session:
        return session.scalars(select(ImapSource.id).where(ImapSource.name == name)).one()


@pytest.fixture
def account(dovecot: Dovecot) -> Account:
    return Account(dovecot)


def test_first_sync_imports_inbox_and_sent_and_the_next_fetches_nothing(
    database_url: str, account: Account, proxy: FetchProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    account.receive(1, 2, 3, 4, 5)
    account.send(6, 7)
    name = account.source(proxy.port, monkeypatch)  # no folders: INBOX and the folder marked \Sent

    first = sync_source(name)
    assert (first.error, first.fetched, first.imported, first.duplicates) == (None, 7, 7, 0)
    assert sorted(proxy.fetched) == sorted(account.uids("INBOX") + account.uids("Sent"))
    assert stored_directions() == {"inbound": 5, "outbound": 2}
    assert len(first.changed_clients) == 1

    fetches = proxy.fetches
    again = sync_source(name)
    assert (again.error, again.fetched, again.imported) == (None, 0, 0)
    assert proxy.fetches == fetches  # not one FETCH command more


def test_a_new_message_is_the_only_one_fetched(
    database_url: str, account: Account, proxy: FetchProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    account.receive(1, 2, 3)
    name = account.source(proxy.port, monkeypatch, folders=("INBOX",))
    assert sync_source(name).imported == 3
    before = len(proxy.fetched)

    account.receive(4)
    report = sync_source(name)
    assert (report.fetched, report.imported) == (1, 1)
    assert proxy.fetched[before:] == [max(account.uids("INBOX"))]


def test_a_recreated_folder_is_read_again_without_duplicates(
    database_url: str, account: Account, proxy: FetchProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    account.receive(1)
    account.send(2, 3)
    name = account.source(proxy.port, monkeypatch)
    assert sync_source(name).imported == 3

    account.recreate("Sent")  # new UIDVALIDITY: the UIDs stored mean nothing now
    account.send(2, 3, 4)
    report = sync_source(name)
    assert report.rescanned == ["Sent"]
    assert (report.error, report.fetched, report.imported, report.duplicates) == (None, 3, 1, 2)
    assert stored_directions() == {"inbound": 1, "outbound": 3}


def test_a_wrong_password_or_missing_variable_fails_that_mailbox_only(
    database_url: str, dovecot: Dovecot, proxy: FetchProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, wrong, unset = Account(dovecot), Account(dovecot), Account(dovecot)
    for account in (good, wrong, unset):
        account.receive(1, 2)
    names = [
        wrong.source(proxy.port, monkeypatch, password="not-the-password"),
        unset.source(proxy.port, monkeypatch),
        good.source(proxy.port, monkeypatch),
    ]
    monkeypatch.delenv(f"IMAP_PASSWORD_{unset.user.upper()}")

    reports = {report.mailbox: report for report in sync_sources()}
    assert sorted(reports) == sorted(names)
    assert "login as" in (reports[wrong.user].error or "") and "refused" in (reports[wrong.user].error or "")
    assert f"IMAP_PASSWORD_{unset.user.upper()} " in (reports[unset.user].error or "")
    assert (reports[good.user].error, reports[good.user].imported) == (None, 2)

    with pytest.raises(DossierError, match="refused"):
        jobs.sync_mailbox(wrong.user)  # the DAG's mapped task of this mailbox fails
    good.receive(3)
    assert len(jobs.sync_mailbox(good.user)) == 1  # and the others' run on
    assert jobs.mailbox_names() == sorted(names)


def test_a_connection_cut_mid_fetch_is_resumed_fetching_only_what_is_missing(
    database_url: str, account: Account, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    account.receive(*range(1, 8))
    uids = account.uids("INBOX")
    name = account.source(dovecot.port, monkeypatch, folders=("INBOX",))
    cutting = FetchProxy(dovecot.port, cut_at_fetch=2)  # the second batch is cut off mid-answer
    cut = sync_mailbox(
        account.mailbox(cutting.port), source_id=source_id(name), database_url=database_url, batch_size=3
    )
    cutting.close()
    assert cut.error and "connection lost" in cut.error
    assert (cut.fetched, cut.imported) == (3, 3)

    resumed = FetchProxy(dovecot.port)
    rerun = sync_mailbox(
        account.mailbox(resumed.port), source_id=source_id(name), database_url=database_url, batch_size=3
    )
    resumed.close()
    assert (rerun.error, rerun.imported, rerun.duplicates) == (None, 4, 0)
    assert resumed.fetched == uids[3:]  # the first batch was stored: never asked for again
    assert stored_directions() == {"inbound": 7}


def test_a_message_that_is_no_mail_is_quarantined_with_its_bytes_and_not_fetched_again(
    database_url: str, account: Account, proxy: FetchProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = b"X-Note: no sender, no date\r\n\r\njust a line\r\n"
    account.append("INBOX", broken)
    account.receive(1)
    name = account.source(proxy.port, monkeypatch, folders=("INBOX",))
    report = sync_source(name)
    assert (report.imported, report.quarantined) == (1, 1)
    with session_scope() as session:
        item = session.scalars(select(QuarantineItem)).one()
        assert item.source_path == f"imap:{name}/INBOX;UID={account.uids('INBOX')[0]}"
        assert "no From and no Date" in item.reason
    assert sync_source(name).fetched == 0


def test_a_missing_folder_is_a_clear_error(
    database_url: str, account: Account, proxy: FetchProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = account.source(proxy.port, monkeypatch, folders=("INBOX", "Archive"))
    report = sync_source(name)
    assert report.error and "no folder 'Archive'" in report.error and proxy.fetches == 0


def test_the_cli_adds_lists_and_syncs_without_storing_the_password(
    database_url: str, account: Account, proxy: FetchProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    account.receive(1, 2)
    account.send(3)
    add = [
        "sources", "add", "imap", "work", "--host", "127.0.0.1", "--port", str(proxy.port), "--user", account.user,
        "--address", account.address, "--password-env", "WORK_IMAP_PASSWORD", "--folders", "INBOX,Sent", "--plain",
    ]  # fmt: skip
    added = runner.invoke(app, add, env={"COLUMNS": "200"})
    assert added.exit_code == 0, added.output
    assert "WORK_IMAP_PASSWORD is not set here" in added.output
    assert runner.invoke(app, add).exit_code == 1  # the name is taken

    unset = runner.invoke(app, ["sources", "sync", "work"])
    assert unset.exit_code == 1 and "WORK_IMAP_PASSWORD" in unset.output

    synced = runner.invoke(app, ["sources", "sync"], env={"WORK_IMAP_PASSWORD": PASSWORD, "COLUMNS": "200"})
    assert synced.exit_code == 0, synced.output
    assert "work: 3 fetched, 3 imported" in synced.output
    listed = runner.invoke(app, ["sources", "list"], env={"COLUMNS": "200"})
    assert "$WORK_IMAP_PASSWORD" in listed.output and "INBOX to UID" in listed.output

    with session_scope() as session:
        row = session.scalars(select(ImapSource)).one()
        stored = [str(getattr(row, column.key)) for column in ImapSource.__table__.columns]
    assert (row.password_env, row.folders) == ("WORK_IMAP_PASSWORD", ["INBOX", "Sent"])
    assert not any(PASSWORD in value for value in stored)

    unknown = runner.invoke(app, ["sources", "sync", "nosuch"])
    assert unknown.exit_code == 1 and "no source named 'nosuch'" in str(unknown.exception)


def test_adding_needs_one_password_place_and_our_address(database_url: str, tmp_path: Path) -> None:
    new = partial(NewImapSource, name="x", host="imap.example", security=Security.TLS)
    with pytest.raises(DossierError, match="--password-env VARIABLE or --password-file PATH"):
        add_imap_source(new(user="a@ourco.example"))
    with pytest.raises(DossierError, match="give --address"):
        add_imap_source(new(user="alice", password_env="P"))
    secret = tmp_path / "password"
    secret.write_text("s3\n")
    source = add_imap_source(new(user="a@ourco.example", password_file=secret))
    assert (source.port, source.address, source.password_file) == (993, "a@ourco.example", str(secret))


def test_imaplib_is_refused_by_the_server_with_a_wrong_password(dovecot: Dovecot) -> None:
    """The server really checks passwords (else the wrong-password test above would prove nothing)."""
    user = dovecot.new_user()
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"), dovecot.client(user, "wrong"):
        pass


@pytest.mark.parametrize(
    ("security", "expected"),
    [(Security.STARTTLS, "TLS not supported by server"), (Security.TLS, "TLS failed (tls)")],
)
def test_asking_for_tls_a_plain_server_does_not_offer_is_a_clear_error(
    database_url: str, account: Account, monkeypatch: pytest.MonkeyPatch, security: Security, expected: str
) -> None:
    name = account.source(account.server.port, monkeypatch)
    mailbox = replace(account.mailbox(account.server.port), security=security)
    report = sync_mailbox(mailbox, source_id=source_id(name), database_url=database_url, timeout=5)
    assert report.error and expected in report.error and report.fetched == 0
