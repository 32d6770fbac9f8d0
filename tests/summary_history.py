"""A tiny generated history for cache and language tests: one of our reps and e-mails from one client."""

from email.message import EmailMessage
from pathlib import Path

from storage import repository
from tests.db import import_paths, session_scope

CLIENT = "Pallet Buyers Ltd"
REP_EMAIL = "robin.rep@seller-side.example"


def add_rep() -> None:
    """Register our rep, so their address marks our side of the mails."""
    with session_scope() as session:
        repository.upsert_user(session, login="rrep", name="Robin Rep", email=REP_EMAIL)


def import_mail(folder: Path, number: int, text: str, *, client: str = CLIENT) -> int:
    """Import one e-mail from ``client`` (sent the ``number``-th of November); the client's id."""
    slug = client.lower().replace(" ", "-")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = f"buyer@{slug}.example", REP_EMAIL, f"Order {number}"
    message["Date"] = f"Mon, {number:02d} Nov 2026 10:00:00 +0000"
    message["Message-ID"] = f"<order-{number}@{slug}.example>"
    message.set_content(text)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}-{number}.eml"
    path.write_bytes(bytes(message))
    [client_id] = import_paths([path], client=client).changed_clients
    return client_id
