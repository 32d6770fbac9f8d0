"""Who may read what: teams, scope grants, API tokens and login sessions, audit events, feedback, and scoped
source reads."""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from storage import repository
from storage.errors import DossierError
from storage.meta import CallMeta
from storage.models import (
    PUBLIC_SCOPE,
    ApiToken,
    AuditEvent,
    Channel,
    Client,
    Contact,
    ContactKind,
    Feedback,
    Interaction,
    Scope,
    ScopeGrant,
    Team,
    TranscriptSegment,
    User,
    utcnow,
)

#: Every token starts with this, so a leaked one is easy to recognise in logs and code.
TOKEN_PREFIX = "dsr_"
#: ``last_used_at`` is written at most this often per token (a write per request would cost latency).
LAST_USED_RESOLUTION = timedelta(minutes=5)
VERDICTS = ("useful", "missing")
#: Kinds of ``api_tokens`` rows: tokens a user creates for programs, and web login sessions.
API_TOKEN, WEB_SESSION = "api", "session"
PHONE_KINDS = (ContactKind.PHONE.value, ContactKind.WHATSAPP.value)


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def get_user(session: Session, login: str) -> User:
    """The user with this login (or e-mail); DossierError when there is none."""
    user = session.scalar(select(User).where(or_(User.login == login, User.email == login.lower())))
    if user is None:
        raise DossierError(f"no user {login!r} (add one with `dossier users add`)")
    return user


def ensure_team(session: Session, name: str) -> Team:
    """The team called ``name``, created when missing."""
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name)
        session.add(team)
        session.flush()
    return team


def grant_scope(session: Session, scope: str, *, team: str | None = None, user: str | None = None) -> bool:
    """Let a team or one user read ``scope`` (created when missing); False if it was already granted."""
    if (team is None) == (user is None):
        raise DossierError("grant a scope to exactly one of a team or a user")
    repository.ensure_scope(session, scope)
    scope_id = session.scalar(select(Scope.id).where(Scope.name == scope))
    team_id = ensure_team(session, team).id if team else None
    user_id = get_user(session, user).id if user else None
    exists = session.scalar(
        select(ScopeGrant.id).where(
            ScopeGrant.scope_id == scope_id,
            ScopeGrant.team_id.is_not_distinct_from(team_id),
            ScopeGrant.user_id.is_not_distinct_from(user_id),
        )
    )
    if exists is not None:
        return False
    session.add(ScopeGrant(scope_id=scope_id, team_id=team_id, user_id=user_id))
    session.flush()
    return True


def readable_scopes(session: Session, user: User) -> tuple[str, ...]:
    """The scopes ``user`` may read (granted to them or their team, and the public one), sorted."""
    holders = [ScopeGrant.user_id == user.id]
    if user.team_id is not None:
        holders.append(ScopeGrant.team_id == user.team_id)
    granted = session.scalars(select(Scope.name).join(ScopeGrant, ScopeGrant.scope_id == Scope.id).where(or_(*holders)))
    return tuple(sorted({PUBLIC_SCOPE, *granted}))


def create_token(session: Session, login: str, name: str | None = None) -> str:
    """A new random API token for ``login``; only its hash is stored, so this is the one chance to see it."""
    user = get_user(session, login)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=token_hash(token), name=name, kind=API_TOKEN))
    session.flush()
    return token


class Credential(NamedTuple):
    """The user a valid token or session belongs to, and when it expires (None: valid until revoked)."""

    user: User
    expires_at: datetime | None


def authenticate(session: Session, token: str, kind: str = API_TOKEN) -> Credential | None:
    """The user of a valid token of ``kind`` (unrevoked, unexpired), or None."""
    now = utcnow()
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == token_hash(token),
            ApiToken.kind == kind,
            ApiToken.revoked.is_(False),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
        )
    ).first()
    if row is None:
        return None
    api_token, user = row
    if api_token.last_used_at is None or api_token.last_used_at < now - LAST_USED_RESOLUTION:
        session.execute(update(ApiToken).where(ApiToken.id == api_token.id).values(last_used_at=now))
    return Credential(user, api_token.expires_at)


def create_session(session: Session, user_id: int, lifetime: timedelta) -> str:
    """A new web login session of ``user_id`` valid for ``lifetime``: its secret (only the hash is stored)."""
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user_id,
            token_hash=token_hash(secret),
            name="web login",
            kind=WEB_SESSION,
            expires_at=utcnow() + lifetime,
        )
    )
    session.flush()
    return secret


def revoke_session(session: Session, secret: str) -> None:
    """End the web login session with this secret (nothing happens when there is none)."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == token_hash(secret), ApiToken.kind == WEB_SESSION)
        .values(revoked=True)
    )


def record_audit(session: Session, *, user_id: int | None, action: str, client_id: int | None, **detail: Any) -> None:
    """Record that a user did ``action`` on a client (or tried to: ``client_id`` None)."""
    session.execute(insert(AuditEvent).values(user_id=user_id, action=action, client_id=client_id, detail=detail))


def store_feedback(
    session: Session,
    *,
    user_id: int,
    client_id: int,
    format: str,
    verdict: str,
    root_hash: str | None,
    comment: str | None,
) -> Feedback:
    """Store a reader's verdict on a summary: ``useful`` or ``missing`` (something is missing)."""
    if verdict not in VERDICTS:
        raise DossierError(f"unknown verdict {verdict!r}; expected one of: {', '.join(VERDICTS)}")
    feedback = Feedback(
        user_id=user_id,
        client_id=client_id,
        format=format,
        verdict=verdict,
        root_hash=root_hash,
        comment=(comment or "").strip() or None,
    )
    session.add(feedback)
    session.flush()
    return feedback


def recent_feedback_count(session: Session, user_id: int, since: datetime) -> int:
    """How many feedback rows ``user_id`` has stored since ``since`` (for rate limits across processes)."""
    return session.execute(
        select(func.count()).select_from(Feedback).where(Feedback.user_id == user_id, Feedback.at >= since)
    ).scalar_one()


class ClientRef(NamedTuple):
    """A client's id and name: all a lookup needs, read without loading the whole row."""

    id: int
    name: str


def find_client_ref(session: Session, ref: str) -> ClientRef | None:
    """A client by id or e-mail address (one indexed query), else by name, domain or handle."""
    ref = ref.strip()
    if (client_id := repository.row_id(ref)) is not None:
        query = select(Client.id, Client.name).where(Client.id == client_id)
    elif "@" in ref:
        query = (
            select(Client.id, Client.name)
            .join(Contact)
            .where(Contact.kind == ContactKind.EMAIL.value, Contact.value == ref.lower())
        )
    else:
        query = None
    if query is not None and (row := session.execute(query.limit(1)).first()) is not None:
        return ClientRef(*row)
    client = repository.find_client(session, ref)
    return ClientRef(client.id, client.name) if client else None


def find_client_by_phone(session: Session, number: str) -> ClientRef | None:
    """The client that has the phone ``number`` (E.164, as ``ingest.normalize.normalize_phone`` writes it)."""
    row = session.execute(
        select(Client.id, Client.name)
        .join(Contact)
        .where(Contact.kind.in_(PHONE_KINDS), Contact.value == number)
        .limit(1)
    ).first()
    return ClientRef(*row) if row else None


def readable_interaction(session: Session, interaction_id: int, scopes: tuple[str, ...]) -> Interaction | None:
    """The interaction if ``scopes`` may read it; privileged items are never served."""
    if repository.row_id(interaction_id) is None:
        return None
    return session.scalar(
        select(Interaction).where(
            Interaction.id == interaction_id, Interaction.scope.in_(scopes), Interaction.privileged.is_(False)
        )
    )


def transcript(session: Session, interaction: Interaction) -> list[TranscriptSegment]:
    """The transcript segments of a call interaction in time order (empty for other channels)."""
    if interaction.channel != Channel.CALL:
        return []
    recording_id = CallMeta.model_validate(interaction.meta).recording_id
    return list(
        session.scalars(
            select(TranscriptSegment)
            .where(TranscriptSegment.recording_id == recording_id)
            .order_by(TranscriptSegment.start_s, TranscriptSegment.id)
        )
    )
