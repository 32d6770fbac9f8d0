"""Call recordings as an import source: sniffing, metadata from sidecars and manifests, registration."""

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from ingest import calls
from ingest.records import ParsedRecording, Quarantined
from ingest.sources import detect_kind
from storage.models import Client, Contact, Recording
from tests.audio_files import (
    FIXTURE_CALL,
    copy_fixture_call,
    write_corrupt,
    write_sidecar,
)
from tests.db import import_paths, session_scope

MANIFEST = (
    "file,client,phone,agent,started_at,direction,language\n"
    "a.mp3,Omega Bank,+48 22 555 0100,Jan Nowak,2025-12-02 14:05,inbound,pl\n"
    "b.ogg,Omega Bank,,Jan Nowak,2025-12-03T09:00:00+01:00,outbound,\n"
)


def only(results: list) -> ParsedRecording | Quarantined:
    assert len(results) == 1
    return results[0]


def test_sidecar_metadata_and_content_hash(tmp_path: Path) -> None:
    audio = copy_fixture_call(tmp_path)
    recording = only(list(calls.parse(audio)))
    assert isinstance(recording, ParsedRecording)
    assert recording.content_hash == hashlib.sha256(FIXTURE_CALL.read_bytes()).hexdigest()
    assert recording.started_at == datetime(2025, 11, 20, 17, 30, tzinfo=UTC)
    assert (recording.client.value, recording.client_hint, recording.agent) == (
        "+1 415 555 0123",
        "Delta Retail",
        "Sara Lee",
    )
    assert recording.outbound is False and recording.language == "en"
    assert recording.meta["channels"] == {"0": "client", "1": "agent"}


def test_manifest_rows_by_file_name(tmp_path: Path) -> None:
    (tmp_path / "calls.csv").write_text(MANIFEST, encoding="utf-8")
    for name in ("a.mp3", "b.ogg"):
        (tmp_path / name).write_bytes(name.encode() * 100)
    first = only(list(calls.parse(tmp_path / "a.mp3")))
    second = only(list(calls.parse(tmp_path / "b.ogg")))
    assert (first.client_hint, first.client.value, first.language, first.outbound) == (
        "Omega Bank",
        "+48 22 555 0100",
        "pl",
        False,
    )
    assert first.started_at.tzinfo is not None  # naive manifest times are read in the source time zone
    assert (second.client.value, second.language, second.outbound) == (None, None, True)
    assert second.meta["channels"] == {"0": "agent", "1": "client"}


def test_unreadable_inputs_are_quarantined(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    bad_sidecar = tmp_path / "x.m4a"
    bad_sidecar.write_bytes(b"\x00" * 10)
    bad_sidecar.with_suffix(".json").write_text("{not json", encoding="utf-8")
    bad_channels = tmp_path / "y.wav"
    bad_channels.write_bytes(b"\x00" * 10)
    write_sidecar(bad_channels, client="Z", channels={"middle": "agent"})
    reasons = {path.name: only(list(calls.parse(path))) for path in (empty, bad_sidecar, bad_channels)}
    assert all(isinstance(result, Quarantined) for result in reasons.values())
    assert "0 bytes" in reasons["empty.wav"].reason
    assert "unreadable sidecar x.json" in reasons["x.m4a"].reason
    assert "bad channels mapping" in reasons["y.wav"].reason


def test_metadata_files_are_not_claimed_by_other_kinds(tmp_path: Path) -> None:
    audio = copy_fixture_call(tmp_path)
    (tmp_path / "calls.csv").write_text(MANIFEST, encoding="utf-8")
    lone_json = tmp_path / "settings.json"
    lone_json.write_text('{"client": "x"}', encoding="utf-8")
    assert detect_kind(audio) == "calls"
    assert detect_kind(audio.with_suffix(".json")) == "calls"  # read with its audio, imports nothing itself
    assert detect_kind(tmp_path / "calls.csv") == "calls"
    assert detect_kind(lone_json) is None
    assert list(calls.parse(audio.with_suffix(".json"))) == []
    assert list(calls.parse(tmp_path / "calls.csv")) == []


def test_import_registers_pending_recordings_once(database_url: str, tmp_path: Path) -> None:
    copy_fixture_call(tmp_path / "calls")
    write_corrupt(tmp_path / "calls" / "broken.wav")  # bad audio is found when transcribing, not here
    write_sidecar(tmp_path / "calls" / "broken.wav", client="Delta Retail")
    (tmp_path / "calls" / "empty.mp3").write_bytes(b"")
    first = import_paths([tmp_path / "calls"], database_url=database_url)
    again = import_paths([tmp_path / "calls"], database_url=database_url)
    assert (first.imported, first.quarantined) == (2, 1)
    assert (again.imported, again.duplicates, again.unchanged) == (0, 0, 4)  # unchanged files are skipped
    with session_scope(database_url) as session:
        recordings = list(session.scalars(select(Recording).order_by(Recording.id)))
        client = session.scalar(select(Client).where(Client.name == "Delta Retail"))
        phones = set(session.scalars(select(Contact.value).where(Contact.client_id == client.id)))
    assert [r.status for r in recordings] == ["pending", "pending"]
    assert {r.client_id for r in recordings} == {client.id}
    assert "+14155550123" in phones
    call = next(r for r in recordings if r.path.endswith("telephone_call_8k.flac"))
    assert (call.direction, call.agent, call.meta["channels"]) == ("inbound", "Sara Lee", {"0": "client", "1": "agent"})
