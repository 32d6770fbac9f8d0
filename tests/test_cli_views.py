"""What a reader sees in the terminal: interaction ids a citation names, one source in full, clients at 80 columns."""

import re
from email.message import EmailMessage
from pathlib import Path

import numpy as np
from sqlalchemy import select
from typer.testing import CliRunner

from dossier.cli import app
from storage import recordings as store
from storage.models import Channel, Interaction, Recording
from tests.audio_files import write_sidecar, write_wav
from tests.db import import_paths, session_scope
from tests.test_call_meta import transcript

runner = CliRunner()


def a_transcribed_call(tmp_path: Path) -> int:
    tone = 0.1 * np.sin(np.linspace(0, 2000 * np.pi, 8000))
    (tmp_path / "calls").mkdir()
    path = write_wav(tmp_path / "calls" / "call.wav", [tone, tone[::-1]], 8000)
    write_sidecar(path, client="Pallet Buyers Ltd", started_at="2026-11-12T10:00:00+00:00", language="en")
    assert import_paths([tmp_path / "calls"], kind="calls").imported == 1
    with session_scope() as session:
        store.store_transcript(session, session.scalars(select(Recording)).one(), transcript(), "tiny.en")
        session.commit()
        return session.scalars(select(Interaction.id).where(Interaction.channel == Channel.CALL)).one()


def test_history_shows_the_id_each_citation_names_and_show_source_prints_that_call_at_its_moment(
    database_url: str, tmp_path: Path
) -> None:
    call = a_transcribed_call(tmp_path)

    history = runner.invoke(app, ["history", "Pallet Buyers Ltd"], env={"COLUMNS": "100"})
    assert history.exit_code == 0, history.output
    assert f"[#{call}] 2026-11-12" in history.output

    shown = runner.invoke(app, ["show-source", str(call), "--at", "01:11"], env={"COLUMNS": "100"})
    assert shown.exit_code == 0, shown.output
    marked = [line for line in shown.output.splitlines() if line.lstrip().startswith(">")]
    assert len(marked) == 1 and "contract on Friday" in marked[0]  # the line starting at 71.25 s
    assert "Pallet Buyers Ltd" in shown.output and "We will order 40 pallets" in shown.output

    missing = runner.invoke(app, ["show-source", "999999"])
    assert missing.exit_code == 1 and "no interaction #999999" in str(missing.exception)
    bad = runner.invoke(app, ["show-source", str(call), "--at", "soon"])
    assert "expected mm:ss" in str(bad.exception)


def test_clients_at_80_columns_show_the_best_contact_whole_and_how_many_more(database_url: str, tmp_path: Path) -> None:
    message = EmailMessage()
    message["From"] = "Jo Hoffmann <j.hoffmann@nordlicht-medtech.example>"
    message["To"] = "Ann Buyer <ann@nordlicht-medtech.example>, sales@ourco.example"
    message["Subject"], message["Date"] = "Pumps", "Mon, 02 Nov 2026 10:00:00 +0000"
    message.set_content("Please send the offer.\n\nJo Hoffmann\nPhone: +49 30 1234567\n")
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "1.eml").write_bytes(bytes(message))
    assert import_paths([tmp_path / "mail"], client="Nordlicht Medizintechnik Gesellschaft").imported == 1

    narrow = runner.invoke(app, ["clients"], env={"COLUMNS": "80"})
    assert narrow.exit_code == 0, narrow.output
    assert all(len(line) <= 80 for line in narrow.output.splitlines())
    assert "j.hoffmann@nordlicht-medtech.example" in narrow.output  # the person's e-mail, whole
    assert re.search(r"\+\d more", narrow.output)
    assert "domain:" not in narrow.output and "…" not in narrow.output
    wide = runner.invoke(app, ["clients", "--wide"], env={"COLUMNS": "200"})
    assert "email:j.hoffmann@nordlicht-medtech.example" in wide.output and "chat" in wide.output
