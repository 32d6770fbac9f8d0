"""Counts that agree: the brief counts what its reader may see; the CLI's admin views count everything and say
how many of those a brief for all readers leaves out, and why."""

import csv
import json
import re
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from dossier.cli import app
from dossier.engines import read_summary, summarize
from tests.db import import_paths

runner = CliRunner()
CLIENT = "Kestrel Pumps"
NOTES = [  # (created_at, text, visibility, privileged)
    ("2026-03-02T10:00:00+00:00", "Called about the pump order; they want a quote by Friday.", "", "false"),
    ("2026-03-04T10:00:00+00:00", "Sent the quote for twelve pumps.", "", "false"),
    ("2026-03-06T10:00:00+00:00", "They accepted the quote and asked for delivery in April.", "", "false"),
    ("2026-03-07T10:00:00+00:00", "Margin on this deal is below target; keep it internal.", "management", "false"),
    ("2026-03-08T10:00:00+00:00", "Our lawyer's view on the warranty claim.", "", "true"),
]


def a_client_with_restricted_notes(folder: Path) -> int:
    """A client with three public notes, one in scope ``management`` and one privileged; returns its id."""
    folder.mkdir()
    with (folder / "notes.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["client", "author", "created_at", "text", "visibility", "privileged", "note_id"])
        for number, (at, text, visibility, privileged) in enumerate(NOTES, 1):
            writer.writerow([CLIENT, "Rita Reader", at, text, visibility, privileged, f"n{number}"])
    assert import_paths([folder], kind="notes").imported == len(NOTES)
    [client] = json.loads(runner.invoke(app, ["clients", "--json"]).output)
    return client["id"]


def test_the_brief_counts_what_its_reader_sees_and_the_admin_views_say_what_it_leaves_out(
    database_url: str, tmp_path: Path
) -> None:
    client_id = a_client_with_restricted_notes(tmp_path / "notes")
    assert not summarize(all_clients=True, as_of=date(2026, 3, 9), languages=["en"]).failed

    view = read_summary(str(client_id), "brief", "en")
    assert view is not None
    overview = view.summary.content["sentences"][0]["text"]
    assert re.search(r"\b3 interactions\b", overview), overview  # the public ones only

    history = runner.invoke(app, ["history", CLIENT], env={"COLUMNS": "120"})
    assert history.exit_code == 0, history.output
    header = history.output.splitlines()[0]
    assert header == f"{CLIENT} — 5 interactions, 2 not visible to all readers (privileged: 1, scope management: 1)"

    [row] = json.loads(runner.invoke(app, ["clients", "--json"]).output)
    assert (row["total"], row["restricted"]) == (5, 2) and row["total"] - row["restricted"] == 3
    table = " ".join(runner.invoke(app, ["clients"], env={"COLUMNS": "80"}).output.split())
    assert "2 hidden" in table and "not in briefs for all readers" in table
