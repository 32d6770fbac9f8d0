"""The ``dossier digest`` command and the ``dossier report quarterly|handover`` sub-commands."""

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from storage.errors import DossierError

console = Console(soft_wrap=True)  # paths are printed whole, never wrapped
report_app = typer.Typer(help="Quarterly business reviews and handover reports (HTML and PDF).", no_args_is_help=True)

AsOf = Annotated[
    datetime | None,
    typer.Option(
        "--as-of",
        formats=["%Y-%m-%d"],
        help="The day it is for (default: today); a digest reports on the Monday–Sunday before that day's ISO week.",
    ),
]


def _as_of(value: datetime | None) -> date:
    return value.date() if value else date.today()


def _require_schema() -> None:
    from dossier.cli.common import (
        require_schema,  # the CLI module registers these commands: import it late
    )

    require_schema()


def digest_command(
    manager: Annotated[str | None, typer.Option("--manager", help="Only this user (login or e-mail).")] = None,
    send: Annotated[bool, typer.Option("--send", help="Send every pending digest over SMTP now.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write HTML and text previews here; nothing is stored or sent.")
    ] = None,
    as_of: AsOf = None,
) -> None:
    """Monday digests: store this week's digest per manager (and rep) in the outbox, optionally send."""
    from dossier.delivery.digest import (
        Period,
        clients_of,
        compose_digest,
        queue_digest,
        recipients,
        render_digest,
    )
    from dossier.delivery.mailer import send_pending
    from dossier.settings import get_settings
    from storage.db import session_scope

    if send and out:
        raise DossierError("use either --send or --out, not both")
    _require_schema()
    day = _as_of(as_of)
    period = Period.containing(day)
    base_url = get_settings().public_base_url
    with session_scope(get_settings().database_url) as session:
        users = recipients(session, manager)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            for user in users:
                digest = compose_digest(session, user, clients_of(session, user), period)
                rendered = render_digest(digest, public_base_url=base_url)
                base = out / f"digest-{period.key}-{user.login}"
                base.with_suffix(".html").write_text(rendered.html, encoding="utf-8")
                base.with_suffix(".txt").write_text(rendered.text, encoding="utf-8")
                console.print(f"{user.login}: {base}.html, {base}.txt", highlight=False)
            return
        for user in users:
            if not user.email:
                console.print(f"[yellow]skipped[/] {user.login}: no e-mail address", highlight=False)
                continue
            delivery, new = queue_digest(session, user, day, public_base_url=base_url)
            session.commit()
            state = "queued" if new else f"already {delivery.status}"
            console.print(f"{user.login}: digest {delivery.period_key} {state}", highlight=False)
        if send:
            report = send_pending(session, kind="digest", user_ids=None if manager is None else [u.id for u in users])
            console.print(report.summary())
            if report.pending or report.failed:
                console.print("unsent digests stay in the outbox; the next `dossier digest --send` retries them")
                raise typer.Exit(code=1)


def _report(
    kind: str,
    client: str,
    quarter: str | None,
    to: str | None,
    out: Path | None,
    lang: str | None,
    as_of: datetime | None,
) -> None:
    from dossier.delivery.reports import make_report
    from dossier.settings import get_settings

    _require_schema()
    written = make_report(
        kind,
        client,
        quarter=quarter,
        to=to,
        out=out,
        language=lang,
        as_of=_as_of(as_of),
        public_base_url=get_settings().public_base_url,
    )
    covers = ""
    if written.quarter is not None:
        chosen = ", the last quarter with activity" if written.quarter.last_active else ""
        covers = f" ({written.quarter.label}{chosen})"
    again = "" if written.new else " (the same report, written before)"
    console.print(
        f"report #{written.report_id}{covers}: {written.html_path} and {written.pdf_path}{again}", highlight=False
    )


Client = Annotated[str, typer.Argument(help="Client id, name, e-mail, domain or phone.")]
To = Annotated[str | None, typer.Option("--to", help="Who it is for (login or e-mail): sets the language.")]
Out = Annotated[
    Path | None,
    typer.Option("--out", help="FILE.pdf or FILE.html (both are written) or a folder (default: reports_dir)."),
]
Lang = Annotated[str | None, typer.Option("--lang", help="en, ru or pl (default: the --to user's language).")]


@report_app.command()
def quarterly(
    client: Client,
    quarter: Annotated[
        str | None,
        typer.Option("--quarter", help="e.g. 2025Q4 (default: the client's last finished quarter with activity)."),
    ] = None,
    to: To = None,
    out: Out = None,
    lang: Lang = None,
    as_of: AsOf = None,
) -> None:
    """Quarterly business review: purchases, key events, solved problems, open questions, upsell, charts."""
    _report("quarterly", client, quarter, to, out, lang, as_of)


@report_app.command()
def handover(client: Client, to: To = None, out: Out = None, lang: Lang = None, as_of: AsOf = None) -> None:
    """Handover report: history, agreements, people, open promises, risks, next steps, what not to ask."""
    _report("handover", client, None, to, out, lang, as_of)
