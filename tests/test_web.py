"""The brief service over HTTP: authentication, phone and client lookups, visibility, audit, feedback."""

import hashlib
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

pytest.importorskip("fastapi", reason="the web extra is not installed: pip install -e '.[web]'")

import httpx
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dossier import jobs
from dossier.cli.web import tokens_app, users_app
from dossier.demo.sample import generate_sample
from dossier.engines import summarize
from dossier.jobs import BuildResult, build_requested, dirty_clients, refresh_clients
from dossier.settings import get_settings
from dossier.web import create_app
from storage import access, repository
from storage.models import (
    ApiToken,
    AuditEvent,
    BuildRequest,
    Feedback,
    Interaction,
    Recording,
    RefreshRequest,
    RenderedSummary,
)
from storage.recordings import store_transcript
from summarizer.cache import RedisCache
from summarizer.engines.grounded import GroundedEngine
from summarizer.service import FORMATS
from tests.db import import_paths, session_scope
from transcription.results import Segment, Transcript

#: The call added to Alfa Group's history: (start second, speaker, text).
CALL_LINES = (
    (2.0, "agent", "Good morning Ivan, this is Elena from Northwind."),
    (9.5, "client", "We want to order 40 more NW-300 terminals for the Kazan warehouse."),
    (252.0, "agent", "I will send the updated contract for the Kazan terminals by 2026-12-01."),
)
SUMMARIZED = ("Alfa Group", "Bałtyk Logistyka")
REDIS_URL = os.environ.get("DOSSIER_TEST_REDIS_URL")
CITATION_LINK = re.compile(r'href="(/messages/(\d+)(?:\?at=(\d+)#at)?)"')


@dataclass(frozen=True, slots=True)
class Service:
    """A summarized sample behind the app, and what the tests need to know about it."""

    client: TestClient
    tokens: dict[str, str]  # login -> API token
    alfa: int
    baltyk: int
    harbor: int  # never summarized
    call_id: int
    management_note: int
    legal_note: int

    def get(self, path: str, login: str, **params: object) -> httpx.Response:
        return self.client.get(path, params=params or None, headers={"Authorization": f"Bearer {self.tokens[login]}"})


def add_call(session, client_id: int) -> int:
    """A transcribed call of Alfa Group; returns its interaction id."""
    repository.add_recording(
        session,
        client_id=client_id,
        path="calls/alfa.wav",
        content_hash="a" * 64,
        started_at=datetime.fromisoformat("2026-11-02T09:00:00+00:00"),
        agent="Elena Sokolova",
        direction="outbound",
        language="en",
        meta={},
    )
    recording = session.scalar(select(Recording).where(Recording.content_hash == "a" * 64))
    segments = tuple(
        Segment(start, start + 6, text, speaker, 0 if speaker == "agent" else 1, -0.2, 0.01)
        for start, speaker, text in CALL_LINES
    )
    transcript = Transcript(segments, "en", 0.99, "given", 260.0, 20.0, 2, 8000)
    return store_transcript(session, recording, transcript, "test-model")


def prepare(database_url: str, tmp_path: Path) -> Service:
    """Import the sample (plus a call), create users with different scopes, summarize two clients."""
    sample = generate_sample(tmp_path / "sample")
    with session_scope() as session:
        for user in sample.users:
            repository.upsert_user(
                session,
                login=user.login,
                name=user.name,
                email=user.email,
                team=user.team,
                role=user.role,
                language=user.language,
            )
        repository.upsert_user(session, login="operator", name="Olga Operator", team="Support", role="operator")
    import_paths([tmp_path / "sample"])
    with session_scope() as session:
        access.grant_scope(session, "management", team="East")
        access.grant_scope(session, "legal", user="pnowak")
        alfa, baltyk, harbor = (repository.find_client(session, name).id for name in (*SUMMARIZED, "Harbor & Finch"))
        call_id = add_call(session, alfa)
        notes = {i.scope: i.id for i in session.scalars(select(Interaction).where(Interaction.scope != "all"))}
        tokens = {
            login: access.create_token(session, login) for login in ("jcarter", "pnowak", "esokolova", "operator")
        }
    report = summarize(list(SUMMARIZED), languages=["en"])
    assert not report.failed
    return Service(
        TestClient(create_app(database_url)), tokens, alfa, baltyk, harbor, call_id, notes["management"], notes["legal"]
    )


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Service:
    return prepare(database_url, tmp_path)


def build_queued() -> BuildResult:
    """Run the batch's consumer of the builds the web service queued (``dossier summarize --dirty`` does)."""
    result = build_requested()
    assert not result.failed
    return result


def queued_builds() -> set[tuple[int, str, str]]:
    """The build requests waiting: (client id, scope key, language)."""
    with session_scope() as session:
        return set(session.execute(select(BuildRequest.client_id, BuildRequest.scope_key, BuildRequest.language)))


def cited_ids(content: object) -> set[int]:
    """Every interaction id cited anywhere in a summary's JSON content."""
    if isinstance(content, dict):
        own = {content["interaction_id"]} if "interaction_id" in content else set()
        return own.union(*(cited_ids(value) for value in content.values()))
    if isinstance(content, list):
        return set().union(*(cited_ids(value) for value in content))
    return set()


def test_every_request_needs_a_valid_token(service):
    client = service.client
    refused = client.get(f"/api/clients/{service.alfa}")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert "Bearer" in refused.json()["detail"]
    assert (
        client.get(
            "/api/incoming-call", params={"phone": "+79161234567"}, headers={"Authorization": "Bearer dsr_wrong"}
        ).status_code
        == 401
    )
    page = client.get(f"/clients/{service.alfa}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == f"/login?next=%2Fclients%2F{service.alfa}"
    assert client.get(f"/messages/{service.call_id}", follow_redirects=False).status_code == 303
    assert (
        client.post(f"/clients/{service.alfa}/feedback", data={"verdict": "useful"}, follow_redirects=False).status_code
        == 303
    )
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Feedback)) == 0
        session.execute(
            ApiToken.__table__.update()
            .where(ApiToken.token_hash == access.token_hash(service.tokens["operator"]))
            .values(revoked=True)
        )
    assert service.get(f"/api/clients/{service.alfa}", "operator").status_code == 401


def test_login_form_sets_a_cookie_that_opens_the_card(service):
    client = service.client
    wrong = client.post("/login", data={"token": "dsr_nope", "next": "/"})
    assert wrong.status_code == 401 and "unknown or revoked" in wrong.text
    hijack = client.post(
        "/login", data={"token": service.tokens["jcarter"], "next": "//evil.example/"}, follow_redirects=False
    )
    assert hijack.headers["location"] == "/"
    assert (
        client.post(
            "/login", data={"token": service.tokens["jcarter"], "next": "/\\evil.example"}, follow_redirects=False
        ).headers["location"]
        == "/"
    )
    login = client.post(
        "/login", data={"token": service.tokens["jcarter"], "next": f"/clients/{service.alfa}"}, follow_redirects=False
    )
    assert login.status_code == 303 and login.headers["location"] == f"/clients/{service.alfa}"
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    card = client.get(f"/clients/{service.alfa}")
    assert card.status_code == 200 and "Alfa Group" in card.text and "James Carter" in card.text
    client.post("/logout")
    assert client.get(f"/clients/{service.alfa}", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("written", "region"),
    [
        ("+79161234567", None),
        ("+7 916 123-45-67", None),
        ("+7 (916) 123 45 67", None),
        ("tel:+7-916-123-45-67", None),
        ("8 916 123 45 67", "RU"),
        ("011 7 916 123 4567", "US"),
        ("00 7 916 1234567", "PL"),
    ],
)
def test_incoming_call_finds_the_client_whatever_way_the_number_is_written(service, written, region):
    params = {"phone": written} | ({"region": region} if region else {})
    response = service.get("/api/incoming-call", "jcarter", **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["client"] == {"id": service.alfa, "name": "Alfa Group"}
    assert body["format"] == "brief" and body["stale"] is False and body["language"] == "en"
    assert datetime.fromisoformat(body["generated_at"]).tzinfo is not None
    assert body["markdown"].startswith("## Pre-call brief: Alfa Group") and body["content"]["sentences"]
    assert body["card_url"] == f"/clients/{service.alfa}"


def test_search_opens_the_card_by_phone_or_email(service):
    by_phone = service.get("/", "operator", q="+48 601 234 567")
    assert by_phone.status_code == 200 and str(by_phone.url).endswith(f"/clients/{service.baltyk}")
    assert "Bałtyk Logistyka" in by_phone.text
    missing = service.get("/", "operator", q="nobody@nowhere.example")
    assert missing.status_code == 404 and "No client matches" in missing.text


def test_client_lookup_by_id_or_email_in_any_format(service):
    by_id = service.get(f"/api/clients/{service.baltyk}", "jcarter")
    assert by_id.status_code == 200 and by_id.json()["client"]["name"] == "Bałtyk Logistyka"
    with session_scope() as session:
        email = next(c.value for c in repository.find_client(session, "Bałtyk Logistyka").contacts if c.kind == "email")
    assert service.get(f"/api/clients/{email.upper()}", "jcarter").json()["client"]["id"] == service.baltyk
    for format_name in FORMATS:
        body = service.get(f"/api/clients/{service.baltyk}", "jcarter", format=format_name).json()
        assert body["format"] == format_name and body["content"]["format"] == format_name
    assert service.get(f"/api/clients/{service.baltyk}", "jcarter", format="poem").status_code == 422
    assert "available" in service.get(f"/api/clients/{service.baltyk}", "jcarter", lang="xx").json()["detail"]


def test_unknown_phone_or_client_is_a_clear_404(service):
    unknown = service.get("/api/incoming-call", "jcarter", phone="+1 202 555 0199")
    assert unknown.status_code == 404 and unknown.json()["detail"] == "no client has the phone number +12025550199"
    garbage = service.get("/api/incoming-call", "jcarter", phone="call me maybe")
    assert garbage.status_code == 404 and "not a valid phone number" in garbage.json()["detail"]
    assert service.get("/api/clients/99999", "jcarter").json()["detail"] == "no client matches '99999'"
    assert service.get("/api/clients/nobody@nowhere.example", "jcarter").status_code == 404
    page = service.get("/clients/99999", "jcarter")
    assert page.status_code == 404 and "No client #99999." in page.text and "<html" in page.text


def test_a_missing_summary_is_queued_for_the_batch_and_never_built_in_the_web(service, monkeypatch):
    made: list[str] = []

    def refuse(self, **options):
        made.append(options.get("language", "?"))
        raise AssertionError("an engine was made inside the web process")

    with pytest.MonkeyPatch.context() as web_only:
        web_only.setattr(GroundedEngine, "__init__", refuse)
        for _ in range(3):  # a reader retrying, the card reloading: one request
            queued = service.get(f"/api/clients/{service.harbor}", "jcarter")
            assert queued.status_code == 202 and queued.headers["retry-after"] == "5"
            assert queued.json()["status"] == "queued" and "Harbor & Finch" in queued.json()["detail"]
            scoped = service.get(f"/api/clients/{service.alfa}", "esokolova", lang="pl", format="timeline")
            assert scoped.status_code == 202
        card = service.get(f"/clients/{service.harbor}", "jcarter")
        assert card.status_code == 200 and "Being prepared" in card.text and 'http-equiv="refresh"' in card.text
        assert made == []
        assert queued_builds() == {(service.harbor, "all", "en"), (service.alfa, "all+management", "pl")}

    built: list[tuple[int, tuple[str, ...], list[str]]] = []
    real = jobs.summarize_client
    monkeypatch.setattr(
        jobs,
        "summarize_client",
        lambda session, client, engines, **options: (
            built.append((client.id, options["scopes"], options["languages"]))
            or real(session, client, engines, **options)
        ),
    )
    assert len(build_queued().built) == 2
    assert sorted(built) == sorted([(service.harbor, ("all",), ["en"]), (service.alfa, ("all", "management"), ["pl"])])
    assert queued_builds() == set() and build_queued().built == []
    ready = service.get(f"/api/clients/{service.harbor}", "jcarter")
    assert ready.status_code == 200 and ready.json()["stale"] is False
    scoped = service.get(f"/api/clients/{service.alfa}", "esokolova", lang="pl", format="timeline")
    assert scoped.status_code == 200 and scoped.json()["language"] == "pl" and scoped.json()["stale"] is False
    assert "Being prepared" not in service.get(f"/clients/{service.harbor}", "jcarter").text
    with session_scope() as session:
        assert session.get(RefreshRequest, service.harbor) is None
        keys = set(
            session.execute(
                select(RenderedSummary.scope_key, RenderedSummary.language)
                .distinct()
                .where(RenderedSummary.client_id.in_([service.harbor, service.alfa]))
            )
        )
    assert keys == {("all", "en"), ("all+management", "pl")}


def test_each_reader_gets_the_summary_of_exactly_the_scopes_they_may_read(service):
    public = {f: service.get(f"/api/clients/{service.alfa}", "jcarter", format=f).json() for f in FORMATS}
    assert service.get(f"/api/clients/{service.alfa}", "esokolova", lang="en").status_code == 202
    build_queued()
    management = {
        f: service.get(f"/api/clients/{service.alfa}", "esokolova", lang="en", format=f).json() for f in FORMATS
    }
    with session_scope() as session:
        public_ids = set(
            session.scalars(
                select(Interaction.id).where(Interaction.client_id == service.alfa, Interaction.scope == "all")
            )
        )
        management_count = session.scalar(
            select(func.count()).where(
                Interaction.client_id == service.alfa, Interaction.scope.in_(["all", "management"])
            )
        )
        keys = set(session.scalars(select(RenderedSummary.scope_key).where(RenderedSummary.client_id == service.alfa)))
    assert keys == {"all", "all+management"}
    assert all(cited_ids(body["content"]) <= public_ids for body in public.values())
    assert public["brief"]["root_hash"] != management["brief"]["root_hash"]
    assert f"{len(public_ids)} interactions" in public["brief"]["markdown"]
    assert f"{management_count} interactions" in management["brief"]["markdown"]
    assert not any("Инцидент с прошивкой" in body["markdown"] for body in public.values())
    # the management note: readable by its team, invisible to others
    assert service.get(f"/messages/{service.management_note}", "esokolova").status_code == 200
    assert service.get(f"/messages/{service.management_note}", "jcarter").status_code == 404


def test_the_privileged_legal_note_never_reaches_anyone(service):
    for login in ("jcarter", "pnowak"):
        for format_name in FORMATS:
            response = service.get(f"/api/clients/{service.baltyk}", login, lang="en", format=format_name)
            if response.status_code == 202:
                build_queued()
                response = service.get(f"/api/clients/{service.baltyk}", login, lang="en", format=format_name)
            text = response.text
            assert response.status_code == 200 and "Opinia prawna" not in text and "kar umownych" not in text
            assert service.legal_note not in cited_ids(response.json()["content"])
        page = service.get(f"/messages/{service.legal_note}", login)
        assert page.status_code == 404 and "Opinia prawna" not in page.text
        assert "Opinia prawna" not in service.get(f"/clients/{service.baltyk}", login).text


def test_card_links_every_citation_to_its_source_message_or_call_moment(service):
    card = service.get(f"/clients/{service.alfa}", "jcarter")
    assert card.status_code == 200
    for title in ("Pre-call brief", "Client summary", "Timeline", "Action items", "Useful", "Something missing"):
        assert title in card.text
    links = CITATION_LINK.findall(card.text)
    assert links and {int(interaction_id) for _href, interaction_id, _at in links} <= cited_ids(
        {f: service.get(f"/api/clients/{service.alfa}", "jcarter", format=f).json()["content"] for f in FORMATS}
    )
    href, _id, _at = next(link for link in links if link[2] == "")
    source = service.get(href.split("#")[0], "jcarter")
    assert source.status_code == 200 and "← Alfa Group" in source.text
    moments = [link for link in links if link[1] == str(service.call_id) and link[2]]
    assert moments, "the call is cited with a moment in the recording"
    href, _id, at = moments[0]
    transcript = service.get(href.split("#")[0], "jcarter")
    current = re.search(
        r'<div class="segment current" id="at" data-start="([\d.]+)">(.*?)</div>', transcript.text, re.DOTALL
    )
    assert current and int(float(current.group(1))) == int(at) and "[04:12]" in transcript.text
    spoken = {text for start, _speaker, text in CALL_LINES if start == float(current.group(1))}
    assert spoken and spoken.pop() in current.group(2)


def test_message_page_redacts_personal_data(service):
    with session_scope() as session:
        iban_mail = session.scalar(select(Interaction.id).where(Interaction.body.contains("PL61 1090")))
    page = service.get(f"/messages/{iban_mail}", "jcarter")
    assert page.status_code == 200 and "6 129 PLN" in page.text and "PL61 1090" not in page.text


def test_feedback_buttons_store_feedback(service):
    root_hash = service.get(f"/api/clients/{service.alfa}", "jcarter").json()["root_hash"]
    sent = service.client.post(
        f"/clients/{service.alfa}/feedback",
        follow_redirects=False,
        headers={"Authorization": f"Bearer {service.tokens['jcarter']}"},
        data={
            "verdict": "missing",
            "format": "actions",
            "root_hash": root_hash,
            "comment": "  the Kazan order is not listed  ",
        },
    )
    assert sent.status_code == 303 and sent.headers["location"] == f"/clients/{service.alfa}?feedback=missing#feedback"
    assert "your feedback (something missing) was saved" in service.get(sent.headers["location"], "jcarter").text
    bad = service.client.post(
        f"/clients/{service.alfa}/feedback",
        data={"verdict": "meh"},
        headers={"Authorization": f"Bearer {service.tokens['jcarter']}"},
    )
    assert bad.status_code == 422
    with session_scope() as session:
        rows = list(session.scalars(select(Feedback)))
        jcarter = access.get_user(session, "jcarter").id
    assert [(r.user_id, r.client_id, r.format, r.verdict, r.root_hash, r.comment) for r in rows] == [
        (jcarter, service.alfa, "actions", "missing", root_hash, "the Kazan order is not listed")
    ]


def test_every_lookup_is_audited(service):
    service.get("/api/incoming-call", "jcarter", phone="+7 916 123-45-67")
    service.get("/api/incoming-call", "jcarter", phone="+1 202 555 0199")
    building = service.get(f"/clients/{service.baltyk}", "pnowak")
    assert "W przygotowaniu" in building.text and 'http-equiv="refresh"' in building.text  # pnowak reads Polish
    service.get(f"/messages/{service.call_id}", "pnowak", at=252)
    with session_scope() as session:
        users = {login: access.get_user(session, login).id for login in ("jcarter", "pnowak")}
        events = [
            (e.user_id, e.action, e.client_id, e.detail.get("status"), e.at is not None)
            for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]
        phone_detail = session.scalar(select(AuditEvent.detail).order_by(AuditEvent.id).limit(1))
    assert events == [
        (users["jcarter"], "api.incoming_call", service.alfa, 200, True),
        (users["jcarter"], "api.incoming_call", None, 404, True),
        (users["pnowak"], "page.card", service.baltyk, 202, True),  # pl summary built on demand
        (users["pnowak"], "page.message", service.alfa, 200, True),
    ]
    assert phone_detail["phone"] == "+79161234567" and phone_detail["scopes"] == "all"


def test_redis_down_is_served_from_the_database(service, database_url, monkeypatch):
    monkeypatch.setenv("DOSSIER_REDIS_URL", "redis://127.0.0.1:1/0")
    get_settings.cache_clear()
    client = TestClient(create_app(database_url))
    headers = {"Authorization": f"Bearer {service.tokens['jcarter']}"}
    response = client.get(f"/api/clients/{service.alfa}", headers=headers)
    assert response.status_code == 200 and response.json()["source"] == "database"
    assert response.json()["stale"] is False


def add_mail(folder: Path, text: str) -> None:
    """New mail from Alfa Group, imported as `dossier import` does it."""
    message = EmailMessage()
    message["From"], message["To"] = "ivan.petrov@alfa-grupp.ru", "elena.sokolova@northwind-sales.example"
    message["Subject"], message["Date"], message["Message-ID"] = "Kazan", "Mon, 16 Nov 2026 10:00:00 +0300", "<k@a>"
    message.set_content(text)
    path = folder / "kazan.eml"
    path.write_bytes(bytes(message))
    import_paths([path])


def test_new_data_marks_briefs_stale_and_the_batch_rebuilds_them(service, database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DOSSIER_SERVE_LOCAL_CACHE_SECONDS", "0.2")
    get_settings.cache_clear()
    client = TestClient(create_app(database_url))

    def brief(login: str) -> dict:
        headers = {"Authorization": f"Bearer {service.tokens[login]}"}
        return client.get(f"/api/clients/{service.alfa}", params={"lang": "en"}, headers=headers).json()

    assert brief("esokolova")["status"] == "queued"
    build_queued()
    management, public = brief("esokolova"), brief("jcarter")
    assert management["stale"] is False and public["stale"] is False
    add_mail(tmp_path, "We confirm the order of 40 NW-300 terminals for Kazan.")
    time.sleep(0.25)  # other processes' changes reach this server once its memory cache expires
    stale_public, stale_management = brief("jcarter"), brief("esokolova")  # the latter queues its rebuild
    assert stale_public["stale"] is True and stale_public["root_hash"] == public["root_hash"]
    assert stale_management["stale"] is True and stale_management["root_hash"] == management["root_hash"]
    assert queued_builds() == {(service.alfa, "all+management", "en")}  # the public one waits for its refresh
    assert refresh_clients(dirty_clients(debounce=timedelta(0))).failed == {}  # the refresh DAG's jobs
    time.sleep(0.25)
    rebuilt, public_too = brief("esokolova"), brief("jcarter")
    assert rebuilt["stale"] is False and rebuilt["root_hash"] != management["root_hash"]
    assert public_too["stale"] is False and public_too["root_hash"] != public["root_hash"]
    counted = [int(re.search(r"(\d+) interactions", body["markdown"]).group(1)) for body in (management, rebuilt)]
    assert counted[1] == counted[0] + 1


@pytest.mark.skipif(not REDIS_URL, reason="set DOSSIER_TEST_REDIS_URL to test against a real Redis")
def test_briefs_are_cached_in_redis(service, database_url, monkeypatch):
    RedisCache(REDIS_URL)._redis.flushdb()
    monkeypatch.setenv("DOSSIER_REDIS_URL", REDIS_URL)
    get_settings.cache_clear()
    client = TestClient(create_app(database_url))
    headers = {"Authorization": f"Bearer {service.tokens['jcarter']}"}
    first, second = (client.get(f"/api/clients/{service.alfa}", headers=headers).json() for _ in range(2))
    assert (first["source"], second["source"]) == ("database", "cache")
    assert first["root_hash"] == second["root_hash"] and second["stale"] is False


def test_cli_manages_users_scopes_and_tokens(database_url):
    cli = typer.Typer()
    cli.add_typer(users_app, name="users")
    cli.add_typer(tokens_app, name="tokens")
    runner = CliRunner()
    added = runner.invoke(
        cli,
        [
            "users",
            "add",
            "amy",
            "--name",
            "Amy Rep",
            "--email",
            "Amy@Northwind.example",
            "--team",
            "North",
            "--role",
            "rep",
        ],
    )
    assert added.exit_code == 0, added.output
    assert runner.invoke(cli, ["users", "grant", "management", "--team", "North"]).exit_code == 0
    again = runner.invoke(cli, ["users", "grant", "management", "--team", "North"])
    assert "already granted" in again.output
    assert runner.invoke(cli, ["users", "grant", "legal", "--user", "amy"]).exit_code == 0
    assert runner.invoke(cli, ["users", "grant", "legal", "--user", "nobody"]).exit_code != 0
    created = runner.invoke(cli, ["tokens", "create", "amy", "--name", "telephony"])
    token = created.stdout.strip().splitlines()[-1]
    assert created.exit_code == 0 and token.startswith("dsr_")
    with session_scope() as session:
        stored = session.scalar(select(ApiToken))
        user = access.authenticate(session, token).user
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and stored.name == "telephony"
        assert token not in repr(session.execute(select(ApiToken.__table__)).all())
        assert user.login == "amy" and user.email == "amy@northwind.example"
        assert access.readable_scopes(session, user) == ("all", "legal", "management")
