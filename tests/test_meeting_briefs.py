"""Pre-meeting briefs end to end: events created through the caldav client on a real Radicale (radicale_server.py),
synced, matched to clients by the attendees' addresses, the organiser's brief mailed to a real SMTP server (aiosmtpd)
once per occurrence and posted as JSON to a real local webhook; an .ics file source the same way."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from dossier import jobs
from dossier.cli import app
from dossier.delivery.meeting_briefs import MeetingBrief, occurrence_key
from dossier.settings import get_settings
from storage import repository
from storage.models import Client, Delivery, Interaction
from tests.db import import_paths, session_scope
from tests.loopback import free_port
from tests.test_digest import Inbox, smtp_server_on

icalendar = pytest.importorskip("icalendar", reason="the calendar extra: pip install 'dossier[calendar]'")
pytest.importorskip("caldav", reason="the calendar extra: pip install 'dossier[calendar]'")
pytest.importorskip("radicale", reason="the test extra runs a real Radicale")
from tests.radicale_server import PASSWORD, Radicale, running_radicale  # noqa: E402 - needs caldav

BASE_URL = "https://dossier.example"
ORGANISER = "anna@ourco.example"
BUYER = "buyer@acme.pl"
#: Monday 1 April 2030, 07:40 UTC: 09:40 in Warsaw (summer time since 31 March, UTC+2).
NOW = datetime(2030, 4, 1, 7, 40, tzinfo=UTC)
runner = CliRunner()


@pytest.fixture(scope="session")
def radicale() -> Iterator[Radicale]:
    with running_radicale() as server:
        yield server


class Webhook:
    """A chat tool's incoming webhook on loopback: keeps the JSON bodies POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    port = free_port()
    for name, value in {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_SENDER": "Dossier <dossier@ourco.example>",
        "SMTP_BACKOFF_SECONDS": "0",
        "SMTP_TIMEOUT_SECONDS": "5",
        "INTERNAL_DOMAINS": "ourco.example",
    }.items():
        monkeypatch.setenv(f"DOSSIER_{name}", value)
    get_settings.cache_clear()
    with smtp_server_on(port) as received:
        yield received


def mail(number: int, folder: Path, *, subject: str, body: str, sender: str = BUYER) -> Path:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, ORGANISER, subject
    message["Date"] = format_datetime(datetime(2030, 3, 1, 9, tzinfo=UTC) + timedelta(days=number))
    message["Message-ID"] = f"<m{number}@acme.pl>"
    message.set_content(body)
    path = folder / f"{number}.eml"
    path.write_bytes(message.as_bytes())
    return path


@pytest.fixture
def acme(database_url: str, inbox: Inbox, tmp_path: Path) -> Path:
    """Our users (Anna reads Polish, John English) and the client Acme's history; the mail folder."""
    folder = tmp_path / "mail"
    folder.mkdir()
    with session_scope() as session:
        repository.upsert_user(session, login="anna", name="Anna Nowak", email=ORGANISER, language="pl")
        repository.upsert_user(session, login="john", name="John Smith", email="john@ourco.example", language="en")
    import_paths(
        [
            mail(1, folder, subject="Order of 40 pallets", body="We will order 40 pallets of LP-40 in April.\n"),
            mail(2, folder, subject="Delivery terms", body="Please confirm delivery to Gdansk by 15 April 2030.\n"),
        ]
    )
    return folder


def event(uid: str, start: datetime, *, organizer: str, attendees: list[str], title: str, rrule: str = "") -> str:
    """A VCALENDAR with one event (its time zone's VTIMEZONE included)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//dossier tests//EN")
    calendar.add("version", "2.0")
    item = icalendar.Event()
    item.add("uid", uid)
    item.add("dtstamp", datetime(2030, 1, 1, tzinfo=UTC))
    item.add("dtstart", start)
    item.add("dtend", start + timedelta(hours=1))
    item.add("summary", title)
    item.add("organizer", f"mailto:{organizer}")
    for attendee in attendees:
        item.add("attendee", f"mailto:{attendee}")
    if rrule:
        item.add("rrule", icalendar.vRecur.from_ical(rrule))
    calendar.add_component(item)
    calendar.add_missing_timezones()
    return calendar.to_ical().decode()


def warsaw(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("Europe/Warsaw"))


def brief_run(name: str, now: datetime) -> jobs.BriefRun:
    jobs.sync_calendar(name, now=now)
    return jobs.send_meeting_briefs(now=now)


def deliveries(kind: str) -> list[Delivery]:
    with session_scope() as session:
        return list(session.scalars(select(Delivery).where(Delivery.kind == kind).order_by(Delivery.id)))


def test_caldav_meetings_are_briefed_once_per_occurrence_in_time_in_the_organisers_language_with_links(
    radicale: Radicale, acme: Path, inbox: Inbox, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOSSIER_PUBLIC_BASE_URL", BASE_URL)
    monkeypatch.setenv("DOSSIER_MEETING_WEBHOOK_URL", webhook.url)
    monkeypatch.setenv("CAL_PASSWORD", PASSWORD)
    get_settings.cache_clear()
    user = radicale.new_user()
    calendar = radicale.new_calendar(user)
    weekly = event(
        "weekly-acme",  # 10:00 in Warsaw each Monday: 09:00 UTC before 31 March, 08:00 UTC after
        warsaw(2030, 3, 18, 10, 0),
        organizer=ORGANISER,
        attendees=[BUYER, ORGANISER],
        title="Acme weekly",
        rrule="FREQ=WEEKLY;COUNT=10",
    )
    review = event(
        "review-acme",  # the CEO is no contact yet: the company's domain is
        datetime(2030, 4, 1, 14, 0, tzinfo=UTC),
        organizer=ORGANISER,
        attendees=["ceo@acme.pl"],
        title="Contract review",
    )
    lunch = event(
        "lunch",
        datetime(2030, 4, 1, 8, 5, tzinfo=UTC),
        organizer=ORGANISER,
        attendees=["someone@unknown.example"],
        title="Lunch",
    )
    outsider = event(
        "outsider",
        datetime(2030, 4, 1, 8, 0, tzinfo=UTC),
        organizer="boss@acme.pl",
        attendees=[BUYER],
        title="Their meeting",
    )
    for data in (weekly, review, lunch, outsider):
        calendar.save_event(data)
    added = runner.invoke(
        app,
        [
            "sources",
            "add",
            "caldav",
            "team",
            "--url",
            str(calendar.url),
            "--user",
            user,
            "--password-env",
            "CAL_PASSWORD",
        ],
    )
    assert added.exit_code == 0, added.output

    first = brief_run("team", NOW)

    assert (first.unmatched, first.not_users) == (1, ["boss@acme.pl"])
    assert len(inbox.messages) == 1 and len(first.sent) == 2  # the mail and the webhook
    message = inbox.messages[0]
    assert message["To"] == ORGANISER
    assert message["Subject"].startswith("Przed spotkaniem poniedziałek 1 kwietnia 2030, 10:00 (Europe/Warsaw)")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    with session_scope() as session:
        acme_id = session.scalar(select(Client.id).where(Client.name == "Acme"))
        cited = sorted(session.scalars(select(Interaction.id).where(Interaction.client_id == acme_id)))
    assert "Acme weekly" in text and f"{BASE_URL}/clients/{acme_id}" in text
    assert any(f"[#{i}]" in text and f"{BASE_URL}/messages/{i}" in text for i in cited)
    assert any(f'href="{BASE_URL}/messages/{i}"' in html for i in cited)
    assert "LP-40" in text  # the client's brief, built for this mail (no summary existed)
    posted = MeetingBrief.model_validate(webhook.bodies[0])
    assert (posted.meeting_uid, posted.starts_at, posted.language) == ("weekly-acme", NOW + timedelta(minutes=20), "pl")
    assert posted.subject == message["Subject"] and posted.clients[0].name == "Acme"
    assert {c.url for s in posted.clients[0].sentences for c in s.citations} & {
        f"{BASE_URL}/messages/{i}" for i in cited
    }

    again = brief_run("team", NOW + timedelta(minutes=5))
    assert (again.queued, len(inbox.messages), len(webhook.bodies)) == ([], 1, 1)

    afternoon = brief_run("team", datetime(2030, 4, 1, 13, 35, tzinfo=UTC))
    assert len(afternoon.queued) == 2 and inbox.messages[-1]["Subject"].endswith("Contract review")

    import_paths([mail(3, acme, subject="Complaint", body="The LP-40 delivery to Gdansk arrived damaged.\n")])
    next_week = brief_run("team", NOW + timedelta(days=7))  # the next occurrence, its brief refreshed first
    assert len(next_week.queued) == 2 and len(inbox.messages) == 3
    assert "damaged" in inbox.messages[-1].get_body(("plain",)).get_content()
    keys = [delivery.period_key for delivery in deliveries("meeting_brief")]
    assert keys == [
        occurrence_key("weekly-acme", datetime(2030, 4, 1, 8, tzinfo=UTC)),
        occurrence_key("review-acme", datetime(2030, 4, 1, 14, tzinfo=UTC)),
        occurrence_key("weekly-acme", datetime(2030, 4, 8, 8, tzinfo=UTC)),
    ]

    listed = runner.invoke(app, ["sources", "list", "--json"])
    entry = next(source for source in json.loads(listed.output) if source["name"] == "team")
    assert (entry["kind"], entry["password_env"], entry["last_error"]) == ("caldav", "CAL_PASSWORD", None)
    assert PASSWORD not in listed.output


def test_an_ics_file_source_without_a_base_url_cites_as_text_and_a_refused_login_fails_only_its_calendar(
    radicale: Radicale, acme: Path, inbox: Inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ics = tmp_path / "john.ics"
    ics.write_text(
        event(
            "call-acme@john",
            datetime(2030, 4, 1, 8, 0, tzinfo=UTC),
            organizer="John@OurCo.example",
            attendees=[BUYER],
            title="Call with Acme",
        )
    )
    assert runner.invoke(app, ["sources", "add", "ics", "john", "--file", str(ics)]).exit_code == 0
    monkeypatch.setenv("CAL_PASSWORD", "wrong")
    user = radicale.new_user()
    calendar = radicale.new_calendar(user)
    assert (
        runner.invoke(
            app,
            [
                "sources",
                "add",
                "caldav",
                "bad",
                "--url",
                str(calendar.url),
                "--user",
                user,
                "--password-env",
                "CAL_PASSWORD",
            ],
        ).exit_code
        == 0
    )

    synced = runner.invoke(app, ["sources", "sync"])
    assert synced.exit_code == 1
    assert "bad: failed: " in synced.output and "login refused" in synced.output
    assert "john: 0 meetings" in synced.output  # the real clock: 2030 is beyond the horizon

    with pytest.raises(Exception, match="calendar bad"):
        jobs.sync_calendar("bad", now=NOW)
    run = brief_run("john", NOW)

    assert len(run.queued) == 1 and len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "john@ourco.example" and message["Subject"].startswith("Before your meeting Monday 1 April")
    text = message.get_body(("plain",)).get_content()
    assert "[#" in text and "http" not in text
    assert "/messages/" not in message.get_body(("html",)).get_content()
    assert brief_run("john", NOW + timedelta(minutes=5)).queued == []


def test_all_day_and_cancelled_events_are_no_meetings_floating_times_take_the_default_zone_and_garbage_is_an_error(
    tmp_path: Path,
) -> None:
    from ingest.calendars import CalendarError, CalendarFeed, CalendarKind, read_calendar

    document = tmp_path / "mixed.ics"
    document.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
        "BEGIN:VEVENT\r\nUID:floating\r\nDTSTAMP:20300101T000000Z\r\nDTSTART:20300401T090000\r\n"
        "DURATION:PT30M\r\nSUMMARY:Floating\r\nORGANIZER:MAILTO:Anna@OurCo.example\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:holiday\r\nDTSTAMP:20300101T000000Z\r\nDTSTART;VALUE=DATE:20300401\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:off\r\nDTSTAMP:20300101T000000Z\r\nDTSTART:20300401T100000Z\r\nSTATUS:CANCELLED\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    feed = CalendarFeed("mixed", CalendarKind.ICS, str(document))
    found = read_calendar(
        feed, start=NOW - timedelta(hours=8), end=NOW + timedelta(days=1), default_timezone="Asia/Tokyo"
    )
    assert [(o.uid, o.starts_at, o.organizer) for o in found] == [
        ("floating", datetime(2030, 4, 1, 9, tzinfo=ZoneInfo("Asia/Tokyo")), "anna@ourco.example")
    ]
    document.write_text("not a calendar")
    with pytest.raises(CalendarError, match="not a readable iCalendar document"):
        read_calendar(feed, start=NOW, end=NOW + timedelta(days=1))


def test_the_cli_sends_the_briefs_of_meetings_starting_soon_once_and_says_what_it_skipped(
    acme: Path, inbox: Inbox, tmp_path: Path
) -> None:
    """`dossier meetings send` (cron without Airflow) on the real clock: sync, brief, once."""
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=10)
    both = icalendar.Calendar.from_ical(
        event("soon@team", soon, organizer="john@ourco.example", attendees=[BUYER], title="Call with Acme")
    )
    other = event("nobody@team", soon, organizer="stranger@elsewhere.example", attendees=[BUYER], title="Other")
    for component in icalendar.Calendar.from_ical(other).walk("VEVENT"):
        both.add_component(component)
    ics = tmp_path / "team.ics"
    ics.write_bytes(both.to_ical())
    assert runner.invoke(app, ["sources", "add", "ics", "team", "--file", str(ics)]).exit_code == 0

    first = runner.invoke(app, ["meetings", "send"])
    second = runner.invoke(app, ["meetings", "send"])

    assert first.exit_code == 0, first.output
    assert "team: 2 meetings" in first.output and "1 briefs queued, 1 sent" in first.output
    assert "1 meetings whose organiser is no user (stranger@elsewhere.example)" in " ".join(first.output.split())
    assert second.exit_code == 0 and "0 briefs queued" in second.output
    assert len(inbox.messages) == 1 and inbox.messages[0]["To"] == "john@ourco.example"
