"""The brief service's defences: security headers, server-side login sessions, authenticated API docs,
validated and rate-limited feedback, and ids too large for any key answered as not found."""

import re
import time
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from dossier.cli import app
from storage import access, repository
from storage.errors import DossierError
from storage.models import ApiToken, Feedback, Interaction, utcnow

pytest.importorskip("fastapi", reason="the web extra is not installed: pip install -e '.[web]'")

from fastapi.testclient import TestClient

from dossier.web import create_app
from dossier.web.auth import COOKIE_NAME
from dossier.web.pages import FEEDBACK_PER_WINDOW, MAX_COMMENT_CHARS
from tests.db import import_paths, session_scope

HUGE_ID = "99999999999999999999"  # 20 digits: more than any integer key holds
ROOT_HASH = "0123456789abcdef" * 4


@dataclass(frozen=True, slots=True)
class Site:
    """The app over one client with one mail, and API tokens of two users."""

    url: str
    client_id: int
    message_id: int
    tokens: dict[str, str]

    def app(self, **options: object) -> TestClient:
        return TestClient(create_app(self.url, **options))

    def bearer(self, login: str = "ana") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[login]}"}


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Site:
    with session_scope() as session:
        for login, name in (("ana", "Ana Rep"), ("ben", "Ben Rep")):
            repository.upsert_user(session, login=login, name=name, email=f"{login}@northwind.example")
    message = EmailMessage()
    message["From"], message["To"] = "Olga <olga@quill-works.example>", "ana@northwind.example"
    message["Subject"], message["Date"] = "Order", "Mon, 02 Nov 2026 10:00:00 +0000"
    message["Message-ID"] = "<order@quill-works.example>"
    message.set_content("We will send the signed order by 2026-11-20.")
    (tmp_path / "order.eml").write_bytes(bytes(message))
    import_paths([tmp_path / "order.eml"])
    with session_scope() as session:
        interaction = session.scalar(select(Interaction))
        tokens = {login: access.create_token(session, login) for login in ("ana", "ben")}
    return Site(database_url, interaction.client_id, interaction.id, tokens)


def log_in(client: TestClient, token: str) -> str:
    """Log in through the form; the session cookie's value."""
    answer = client.post("/login", data={"token": token, "next": "/"}, follow_redirects=False)
    assert answer.status_code == 303
    return client.cookies[COOKIE_NAME]


def session_rows() -> list[ApiToken]:
    with session_scope() as session:
        return list(session.scalars(select(ApiToken).where(ApiToken.kind == access.WEB_SESSION)))


# --- security headers ---------------------------------------------------------------------------------


def assert_secured(answer, *, stored: bool = False) -> None:
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert answer.headers["x-frame-options"] == "DENY" and answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert (answer.headers.get("cache-control") == "no-store") is not stored


def test_every_page_and_api_answer_carries_the_security_headers(site):
    client = site.app()
    answers = {
        "card": client.get(f"/clients/{site.client_id}", headers=site.bearer()),
        "message": client.get(f"/messages/{site.message_id}", headers=site.bearer()),
        "search": client.get("/", headers=site.bearer()),
        "api": client.get(f"/api/clients/{site.client_id}", headers=site.bearer()),
        "not found": client.get(f"/clients/{site.client_id + 1}", headers=site.bearer()),
        "refused": client.get(f"/api/clients/{site.client_id}"),
        "login": client.get("/login"),
    }
    assert [answers[name].status_code for name in ("card", "message", "search", "not found", "refused")] == [
        200,
        200,
        200,
        404,
        401,
    ]
    for name, answer in answers.items():
        assert_secured(answer), name


def test_pages_run_no_inline_script_or_style_and_load_their_style_sheet(site):
    client = site.app()
    for path in (f"/clients/{site.client_id}", f"/messages/{site.message_id}", "/", "/login"):
        page = client.get(path, headers=site.bearer()).text
        assert '<link rel="stylesheet" href="/static/dossier.css">' in page
        assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=", page), path
    sheet = client.get("/static/dossier.css")
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/css")
    assert "header {" in sheet.text
    assert_secured(sheet, stored=True)  # no client data: browsers may keep it


# --- login sessions -----------------------------------------------------------------------------------


def test_login_sets_a_session_cookie_that_is_not_the_api_token(site):
    client = site.app(session_lifetime=timedelta(hours=2))
    answer = client.post("/login", data={"token": site.tokens["ana"], "next": "/"}, follow_redirects=False)
    cookie = client.cookies[COOKIE_NAME]

    assert site.tokens["ana"] not in answer.headers["set-cookie"] and not cookie.startswith(access.TOKEN_PREFIX)
    flags = answer.headers["set-cookie"].lower()
    assert "httponly" in flags and "samesite=lax" in flags and "max-age=7200" in flags and "secure" not in flags
    [row] = session_rows()
    assert row.token_hash == access.token_hash(cookie) and not row.revoked
    assert timedelta(hours=2) - timedelta(minutes=1) < row.expires_at - utcnow() <= timedelta(hours=2)
    assert client.get(f"/clients/{site.client_id}").status_code == 200
    https = TestClient(create_app(site.url), base_url="https://testserver")
    secure = https.post("/login", data={"token": site.tokens["ana"], "next": "/"}, follow_redirects=False)
    assert "; secure" in secure.headers["set-cookie"].lower()


def test_logout_revokes_the_session_at_once(site):
    client = site.app()
    cookie = log_in(client, site.tokens["ana"])
    assert client.get("/", follow_redirects=False).status_code == 200  # the reader is now remembered

    logout = client.post("/logout", follow_redirects=False)
    assert logout.status_code == 303 and COOKIE_NAME not in client.cookies
    [row] = session_rows()
    assert row.revoked
    client.cookies.set(COOKIE_NAME, cookie)  # someone kept the old cookie
    page = client.get(f"/clients/{site.client_id}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert client.get(f"/api/clients/{site.client_id}").status_code == 401
    assert client.get(f"/api/clients/{site.client_id}", headers=site.bearer()).status_code in (200, 202)  # token


def test_an_expired_session_is_refused_even_when_remembered(site):
    client = site.app(session_lifetime=timedelta(seconds=3))  # long enough for the log-in on a loaded machine
    log_in(client, site.tokens["ana"])
    assert client.get("/", follow_redirects=False).status_code == 200
    time.sleep(3.1)
    assert client.get("/", follow_redirects=False).status_code == 303
    with session_scope() as session:
        expired = access.create_session(session, access.get_user(session, "ben").id, timedelta(seconds=-1))
    stale = site.app()
    stale.cookies.set(COOKIE_NAME, expired)
    assert stale.get(f"/api/clients/{site.client_id}").status_code == 401


def test_a_session_is_only_a_cookie_and_an_api_token_only_a_bearer(site):
    client = site.app()
    secret = log_in(client, site.tokens["ana"])
    assert client.get("/api/clients/1", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    other = site.app()
    other.cookies.set(COOKIE_NAME, site.tokens["ana"])
    assert other.get(f"/api/clients/{site.client_id}").status_code == 401


# --- API docs -----------------------------------------------------------------------------------------


def test_api_docs_need_authentication_or_can_be_switched_off(site):
    client = site.app()
    for path in ("/api/docs", "/api/openapi.json"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"Authorization": "Bearer dsr_wrong"}).status_code == 401
    schema = client.get("/api/openapi.json", headers=site.bearer())
    assert schema.status_code == 200 and "/api/clients/{ref}" in schema.json()["paths"]
    docs = client.get("/api/docs", headers=site.bearer())
    assert docs.status_code == 200 and "/api/openapi.json" in docs.text
    script_policy = docs.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    assert "'sha256-" in script_policy and "unsafe-inline" not in script_policy
    log_in(client, site.tokens["ana"])
    assert client.get("/api/openapi.json").status_code == 200  # the docs page fetches it with the cookie
    closed = site.app(docs=False)
    for path in ("/api/docs", "/api/openapi.json"):
        assert closed.get(path, headers=site.bearer()).status_code == 404


# --- feedback -----------------------------------------------------------------------------------------


def send_feedback(client: TestClient, site: Site, login: str = "ana", **form: str):
    return client.post(
        f"/clients/{site.client_id}/feedback",
        headers=site.bearer(login),
        follow_redirects=False,
        data={"verdict": "useful", "format": "brief"} | form,
    )


def feedback_count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Feedback))


REFUSED_FEEDBACK = (  # (form fields, what the 422 answer says)
    ({"root_hash": "a" * 100_000}, "root_hash must be 64 lowercase hexadecimal characters"),
    ({"root_hash": ROOT_HASH.upper()}, "root_hash must be 64 lowercase hexadecimal characters"),
    ({"root_hash": ROOT_HASH[:-1]}, "root_hash must be 64 lowercase hexadecimal characters"),
    ({"verdict": "meh"}, "verdict must be one of: useful, missing"),
    ({"format": "poem"}, "format must be one of: brief, structured, timeline, actions"),
    ({"comment": "x" * (MAX_COMMENT_CHARS + 1)}, f"longer than {MAX_COMMENT_CHARS} characters"),
)


def test_feedback_out_of_its_set_or_size_is_refused_clearly(site):
    client = site.app()
    for form, problem in REFUSED_FEEDBACK:
        refused = send_feedback(client, site, **form)
        assert refused.status_code == 422 and problem in refused.text, form
    assert feedback_count() == 0


def test_feedback_within_its_limits_is_stored(site):
    client = site.app()
    assert send_feedback(client, site, root_hash=ROOT_HASH, comment="x" * MAX_COMMENT_CHARS).status_code == 303
    assert send_feedback(client, site, root_hash="", verdict="missing", format="actions").status_code == 303
    with session_scope() as session:
        rows = [(r.root_hash, r.verdict, r.format) for r in session.scalars(select(Feedback).order_by(Feedback.id))]
    assert rows == [(ROOT_HASH, "useful", "brief"), (None, "missing", "actions")]


def test_feedback_is_rate_limited_per_user(site):
    client = site.app()
    assert all(send_feedback(client, site).status_code == 303 for _ in range(FEEDBACK_PER_WINDOW))
    limited = send_feedback(client, site)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "60"
    assert f"at most {FEEDBACK_PER_WINDOW} feedback in 60 seconds" in limited.text
    assert send_feedback(client, site, login="ben").status_code == 303  # others are not limited
    assert feedback_count() == FEEDBACK_PER_WINDOW + 1
    with session_scope() as session:  # a minute later the user may send again
        session.execute(update(Feedback).values(at=utcnow() - timedelta(minutes=2)))
    assert send_feedback(client, site).status_code == 303


# --- ids larger than any key --------------------------------------------------------------------------


def test_an_id_too_large_for_any_key_is_not_found(site):
    client = TestClient(create_app(site.url), raise_server_exceptions=False)
    for path in (f"/api/clients/{HUGE_ID}", f"/clients/{HUGE_ID}", f"/messages/{HUGE_ID}", f"/?q={HUGE_ID}"):
        answer = client.get(path, headers=site.bearer())
        assert answer.status_code == 404 and HUGE_ID in answer.text, path
    answer = client.post(f"/clients/{HUGE_ID}/feedback", headers=site.bearer(), data={"verdict": "useful"})
    assert answer.status_code == 404 and feedback_count() == 0


def test_the_cli_says_no_client_matches_an_id_too_large_for_any_key(site):
    shown = CliRunner().invoke(app, ["show", HUGE_ID, "--format", "brief"])
    assert isinstance(shown.exception, DossierError), shown.exception
    assert f"no client matches '{HUGE_ID}'" in str(shown.exception)
    with session_scope() as session:
        assert repository.find_client(session, HUGE_ID) is None
        assert repository.find_client(session, "²") is None  # a digit that int() refuses
        assert repository.find_client(session, str(site.client_id)).id == site.client_id
