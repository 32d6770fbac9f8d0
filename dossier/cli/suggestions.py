"""`dossier suggestions`: suggested CRM updates (propose, list, accept, reject)."""

import getpass
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from dossier import jobs
from dossier import suggestions as crm
from dossier.cli.common import require_schema
from dossier.settings import get_settings
from storage import access
from storage import suggestions as store
from storage.db import session_scope
from storage.errors import DossierError
from storage.models import Client, SuggestionStatus, User

suggestions_app = typer.Typer(
    help="Suggested CRM updates from new history: contacts, titles, decision makers, deal stages.",
    no_args_is_help=True,
)
console = Console()
ByOption = Annotated[
    str | None, typer.Option("--by", help="Who decides: a user's login (default: your login on this machine).")
]


@suggestions_app.command("propose")
def propose_command() -> None:
    """Suggest updates from the history stored since the last run (the dossier_refresh DAG does this too)."""
    require_schema()
    clients = jobs.propose_suggestions()
    console.print(f"{len(clients)} clients got new suggestions", highlight=False)


@suggestions_app.command("list")
def list_command(
    client: Annotated[str | None, typer.Argument(help="A client id, name, e-mail, domain or phone.")] = None,
    status: Annotated[
        SuggestionStatus | None, typer.Option(help="pending (default), accepted or rejected.")
    ] = SuggestionStatus.PENDING,
    every: Annotated[bool, typer.Option("--all", help="Every status.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Suggestions, oldest first, with what each changes and the interactions it cites."""
    require_schema()
    with session_scope(get_settings().database_url) as session:
        client_id = None
        if client is not None:
            found = access.find_client_ref(session, client)
            if found is None:
                raise DossierError(f"no client matches {client!r} (try `dossier clients`)")
            client_id = found.id
        rows = store.list_suggestions(session, client_id=client_id, status=None if every else status)
        names = dict(session.execute(select(Client.id, Client.name)).all())
        shown = [(row, names[row.client_id], crm.changes(row)) for row in rows]
    if as_json:
        print(json.dumps([crm.as_json(row, name) for row, name, _ in shown], ensure_ascii=False, indent=2))
        return
    if not shown:
        console.print("no suggestions")
        return
    table = Table("id", "client", "kind", "change", "sources", "status")
    for row, name, fields in shown:
        change = "\n".join(f"{f.field}: {f.old} → {f.new}" if f.old else f"{f.field}: {f.new}" for f in fields)
        status_text = row.status if row.decided_by is None else f"{row.status} by {row.decided_by}"
        sources = ", ".join(f"#{source}" for source in row.source_ids)
        kind = row.kind.replace("_", " ")  # "decision maker", not the stored name
        table.add_row(str(row.id), escape(name), kind, escape(change), sources, escape(status_text))
    console.print(table)


@suggestions_app.command("accept")
def accept_command(
    suggestion_id: Annotated[str, typer.Argument(help="The suggestion's id.")], by: ByOption = None
) -> None:
    """Accept a suggestion: write the contact (or the deal stage) and record who did it."""
    _decide(suggestion_id, by, accepted=True)


@suggestions_app.command("reject")
def reject_command(
    suggestion_id: Annotated[str, typer.Argument(help="The suggestion's id.")], by: ByOption = None
) -> None:
    """Reject a suggestion: it is never proposed again; who rejected it is recorded."""
    _decide(suggestion_id, by, accepted=False)


def _decide(suggestion_id: str, by: str | None, *, accepted: bool) -> None:
    require_schema()
    with session_scope(get_settings().database_url) as session:
        login = by or getpass.getuser()
        user = session.scalar(select(User).where(User.login == login))
        if by is not None and user is None:
            raise DossierError(f"no user {by!r} (add one with `dossier users add`)")
        suggestion = store.get_suggestion(session, suggestion_id)
        decide = crm.accept if accepted else crm.reject
        decide(session, suggestion, login=login, user_id=user.id if user else None)
        verb = "accepted" if accepted else "rejected"
    console.print(f"suggestion #{suggestion.id} {verb} by {escape(login)}", highlight=False)
