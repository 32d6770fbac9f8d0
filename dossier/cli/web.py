"""CLI: ``dossier serve``, ``dossier users add|grant`` and ``dossier tokens create``.

Registered in ``dossier/cli.py``: ``app.command()(serve)``, ``app.add_typer(users_app, name="users")``
and ``app.add_typer(tokens_app, name="tokens")``.
"""

from typing import Annotated

import typer
from rich.console import Console

from dossier.settings import get_settings
from storage import access, repository
from storage.db import session_scope

users_app = typer.Typer(help="Users of the brief service and the scopes they may read.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (only their SHA-256 is stored).", no_args_is_help=True)
console = Console()


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: loopback).")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (default 8000).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default 1).")] = None,
) -> None:
    """Serve pre-call briefs (JSON) and client cards (HTML) over HTTP."""
    import uvicorn

    from dossier.cli.common import require_schema

    require_schema()
    settings = get_settings()
    uvicorn.run(
        "dossier.web:create_app",
        factory=True,
        host=host or settings.serve_host,
        port=port or settings.serve_port,
        workers=workers or settings.serve_workers,
        proxy_headers=False,
        access_log=False,
    )


@users_app.command("add")
def add_user(
    login: Annotated[str, typer.Argument(help="Login, unique.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    email: Annotated[str | None, typer.Option(help="Work e-mail (marks our side of mail threads).")] = None,
    team: Annotated[str | None, typer.Option(help="Team (created when missing).")] = None,
    role: Annotated[str, typer.Option(help="rep, manager, operator…")] = "rep",
    language: Annotated[str, typer.Option(help="Language summaries are shown in.")] = "en",
) -> None:
    """Create a user, or update the one with this login."""
    with session_scope(get_settings().database_url) as session:
        user_id = repository.upsert_user(
            session, login=login, name=name, email=email, role=role, team=team, language=language
        )
    console.print(f"user {login} (#{user_id}) saved")


@users_app.command("grant")
def grant(
    scope: Annotated[str, typer.Argument(help="Visibility scope, e.g. management or legal.")],
    team: Annotated[str | None, typer.Option(help="Grant to every member of this team.")] = None,
    user: Annotated[str | None, typer.Option(help="Grant to this user (login or e-mail).")] = None,
) -> None:
    """Let a team or one user read the sources of a visibility scope."""
    with session_scope(get_settings().database_url) as session:
        created = access.grant_scope(session, scope, team=team, user=user)
    holder = f"team {team}" if team else f"user {user}"
    console.print(f"{holder} may read scope {scope}" + ("" if created else " (already granted)"))


@tokens_app.command("create")
def create_token(
    login: Annotated[str, typer.Argument(help="The user's login or e-mail.")],
    name: Annotated[str | None, typer.Option(help="What the token is for, e.g. 'telephony'.")] = None,
) -> None:
    """Create an API token and print it once: it cannot be shown again."""
    with session_scope(get_settings().database_url) as session:
        token = access.create_token(session, login, name)
    Console(stderr=True).print("[dim]store this token now; it is not shown again:[/]", highlight=False)
    print(token)
