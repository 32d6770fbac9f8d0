"""Every writer of history records its change in its own transaction: stale summaries, the queue, important events."""

from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import dossier.transcribe_job
import transcription.batch
from dossier.cli import app
from dossier.engines import summarize
from dossier.settings import get_settings
from storage import recordings as store
from storage.changes import Change, ChangeKind, record_change
from storage.models import Interaction, Recording, RefreshRequest, RenderedSummary
from storage.repository import get_or_create_client
from storage.vocabulary import WON_STAGE_SPELLINGS, closes_deal, wins_deal
from tests.audio_files import write_sidecar, write_wav
from tests.db import import_paths, session_scope
from tests.summary_history import CLIENT, REP_EMAIL, add_rep, import_mail
from transcription.batch import JobResult
from transcription.results import Segment, Transcript

runner = CliRunner()
OTHER = "Crate Makers Ltd"


@pytest.fixture
def summarized(database_url: str, tmp_path: Path) -> dict[str, int]:
    """Two clients with one e-mail each, summarized: nothing stale, nothing queued."""
    add_rep()
    ids = {
        CLIENT: import_mail(tmp_path / "mail", 2, "We would like to order 5 pallets, delivery by 30 November."),
        OTHER: import_mail(tmp_path / "mail", 3, "Please quote 20 crates.", client=OTHER),
    }
    assert not summarize([str(client_id) for client_id in ids.values()]).failed
    assert queue() == {} and stale_clients() == set()
    return ids


def queue() -> dict[int, tuple[str, bool]]:
    """The refresh queue as client id -> (reason, important)."""
    with session_scope() as session:
        return {r.client_id: (r.reason, r.important) for r in session.scalars(select(RefreshRequest))}


def stale_clients() -> set[int]:
    with session_scope() as session:
        return set(session.scalars(select(RenderedSummary.client_id).where(RenderedSummary.stale.is_(True))))


def mail(folder: Path, text: str, *, subject: str = "Delivery") -> Path:
    """One generated e-mail from the client's side to our rep."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "buyer@pallet-buyers-ltd.example", REP_EMAIL, subject
    message["Date"], message["Message-ID"] = "Tue, 10 Nov 2026 09:00:00 +0000", f"<{abs(hash(text))}@pallets.example>"
    message.set_content(text)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "incoming.eml"
    path.write_bytes(bytes(message))
    return path


# ------------------------------------------------------------------------------ transcription


def call_transcript(client_says: str) -> Transcript:
    segments = (
        Segment(0.0, 2.0, "Good morning, how can I help?", "agent", 0, -0.2, 0.01),
        Segment(2.0, 6.0, client_says, "client", 1, -0.2, 0.01),
    )
    return Transcript(
        segments=segments,
        language="en",
        language_probability=0.99,
        language_source="given",
        duration_s=6.0,
        speech_s=6.0,
        channels=2,
        sample_rate=8000,
    )


def register_call(folder: Path) -> None:
    """A generated stereo recording of a call with CLIENT, registered by `dossier import`."""
    folder.mkdir(parents=True, exist_ok=True)
    tone = 0.1 * np.sin(np.linspace(0, 2000 * np.pi, 8000))
    path = write_wav(folder / "call.wav", [tone, tone[::-1]], 8000)
    write_sidecar(path, client=CLIENT, started_at="2026-11-12T10:00:00+00:00", language="en")
    assert import_paths([folder], kind="calls").imported == 1


@pytest.fixture
def fake_transcriber(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``dossier transcribe`` without a model: every recording gets a transcript of what the list holds."""
    said = ["We confirm the 5 pallets, please deliver on Friday."]
    monkeypatch.setattr(
        dossier.transcribe_job, "_load_transcriber", lambda name, settings: SimpleNamespace(multilingual=True)
    )

    def transcribe_batch(transcriber, jobs, workers=1):
        for job in jobs:
            yield JobResult(job, call_transcript(said[0]), None, 0.01)

    monkeypatch.setattr(transcription.batch, "transcribe_batch", transcribe_batch)
    return said


def test_a_call_transcribed_from_the_cli_makes_summaries_stale_and_is_refreshed(
    summarized: dict[str, int], fake_transcriber: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_call(tmp_path / "calls")
    assert queue() == {}  # a recording without a transcript is no history yet
    result = runner.invoke(app, ["transcribe", "--all"])
    assert result.exit_code == 0, result.output
    client_id = summarized[CLIENT]
    assert stale_clients() == {client_id}
    assert queue() == {client_id: ("new call", False)}

    monkeypatch.setenv("DOSSIER_REFRESH_DEBOUNCE_SECONDS", "0")
    get_settings.cache_clear()
    refreshed = runner.invoke(app, ["summarize", "--dirty"])
    assert refreshed.exit_code == 0, refreshed.output
    assert "1 client summarized" in refreshed.output
    assert queue() == {} and stale_clients() == set()


def test_a_complaint_on_a_call_is_important(
    summarized: dict[str, int], fake_transcriber: list[str], tmp_path: Path
) -> None:
    fake_transcriber[0] = "I want to escalate this: the pallets arrived broken."
    register_call(tmp_path / "calls")
    assert runner.invoke(app, ["transcribe", "--all"]).exit_code == 0
    assert queue() == {summarized[CLIENT]: ("complaint", True)}


def test_a_stored_transcript_queues_its_client_in_the_same_transaction(
    summarized: dict[str, int], tmp_path: Path
) -> None:
    register_call(tmp_path / "calls")
    with session_scope() as session:
        recording = session.scalar(select(Recording))
        assert store.store_transcript(session, recording, call_transcript("Fine, thank you."), "tiny.en")
        assert session.get(RefreshRequest, summarized[CLIENT]) is not None  # visible before the commit
        session.rollback()
    assert queue() == {} and stale_clients() == set()
    with session_scope() as session:
        assert session.scalar(select(Recording.status)) == store.PENDING


# ------------------------------------------------------------------------------------- import


def test_a_complaint_imported_from_the_cli_is_important_and_leaves_other_clients_alone(
    summarized: dict[str, int], tmp_path: Path
) -> None:
    path = mail(tmp_path / "new", "We have to file a formal complaint: two pallets were damaged.")
    result = runner.invoke(app, ["import", str(path), "--client", CLIENT])
    assert result.exit_code == 0, result.output
    assert queue() == {summarized[CLIENT]: ("complaint", True)}
    assert stale_clients() == {summarized[CLIENT]}


def test_our_own_message_mentioning_a_complaint_is_not_important(summarized: dict[str, int], tmp_path: Path) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = REP_EMAIL, "buyer@pallet-buyers-ltd.example", "Re: order"
    message["Date"], message["Message-ID"] = "Tue, 10 Nov 2026 11:00:00 +0000", "<reply-1@seller-side.example>"
    message.set_content("No complaints so far from the carrier; the pallets leave on Friday.")
    path = tmp_path / "reply.eml"
    path.write_bytes(bytes(message))
    assert runner.invoke(app, ["import", str(path), "--client", CLIENT]).exit_code == 0
    assert queue() == {summarized[CLIENT]: ("new data", False)}


def test_a_closed_deal_is_important(summarized: dict[str, int], tmp_path: Path) -> None:
    deals = tmp_path / "deals.csv"
    deals.write_text(
        f"client,deal_id,stage,changed_at\n{OTHER},D-1,proposal,2026-11-01 10:00\n"
        f"{CLIENT},D-2,Closed Won,2026-11-02 10:00\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["import", str(deals)])
    assert result.exit_code == 0, result.output
    assert queue() == {summarized[OTHER]: ("new data", False), summarized[CLIENT]: ("deal closed", True)}


def test_a_rolled_back_import_leaves_no_refresh_request(
    summarized: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_commit, commits = Session.commit, []

    def power_cut_at_the_batch_commit(self: Session) -> None:
        commits.append(1)
        if len(commits) == 2:  # the first commit records the import run, the second its batch
            raise RuntimeError("power cut")
        real_commit(self)

    path = mail(tmp_path / "new", "We have to file a formal complaint: two pallets were damaged.")
    with monkeypatch.context() as patch:
        patch.setattr(Session, "commit", power_cut_at_the_batch_commit)
        with pytest.raises(RuntimeError, match="power cut"):
            import_paths([path], client=CLIENT)
    assert queue() == {} and stale_clients() == set()
    with session_scope() as session:
        assert "complaint" not in " ".join(session.scalars(select(Interaction.body)))


# --------------------------------------------------------------------------------- classification


def test_one_reason_per_client_the_most_telling_wins(database_url: str) -> None:
    with session_scope() as session:
        a, b, c = ids = tuple(get_or_create_client(session, name) for name in ("Client A", "Client B", "Client C"))
        summary = record_change(
            session,
            [
                Change(a, ChangeKind.INTERACTION),
                Change(a, ChangeKind.DEAL_STAGE, deal_stage=" Lost "),
                Change(a, ChangeKind.INTERACTION, client_text="Eskalacja: brak dostawy."),
                Change(b, ChangeKind.CALL),
                Change(b, ChangeKind.DEAL_STAGE, deal_stage="negotiation"),
                Change(c, ChangeKind.DEAL_STAGE, deal_stage="closed_won"),
                Change(c, ChangeKind.MERGE),
            ],
        )
    assert summary.important == {ids[0], ids[2]}
    assert queue() == {ids[0]: ("complaint", True), ids[1]: ("new call", False), ids[2]: ("deal closed", True)}


@pytest.mark.parametrize(
    ("stage", "closed", "won"),
    [
        ("won", True, True),
        ("Closed Won", True, True),
        ("closed_won", True, True),
        ("Closed-Won", True, True),
        ("lost", True, False),
        ("closed_lost", True, False),
        ("closed", True, False),
        ("proposal", False, False),
        ("negotiation", False, False),
        ("", False, False),
        (None, False, False),
    ],
)
def test_one_vocabulary_of_deal_stages(stage: str | None, closed: bool, won: bool) -> None:
    """Import, notifications, reports and the grounded engine all ask these: one answer per stage."""
    assert (closes_deal(stage), wins_deal(stage)) == (closed, won)


def test_won_spellings_for_sql_filters_cover_every_separator() -> None:
    assert {"won", "closed won", "closed_won", "closed-won"} == WON_STAGE_SPELLINGS


def test_a_requested_summary_is_queued_without_flagging_anything_stale_or_delaying_a_queued_refresh(
    summarized: dict[str, int], database_url: str, tmp_path: Path
) -> None:
    """A reader asking for a summary never built queues its client once; that is no new history."""
    with session_scope(database_url) as session:
        summary = record_change(session, [Change(summarized[CLIENT], ChangeKind.SUMMARY_REQUESTED)])
    assert summary.important == frozenset()
    assert queue() == {summarized[CLIENT]: ("summary requested", False)} and stale_clients() == set()

    import_mail(tmp_path / "mail", 4, "Please quote 30 crates.", client=OTHER)
    with session_scope(database_url) as session:
        queued = session.get(RefreshRequest, summarized[OTHER]).last_change_at
        record_change(session, [Change(summarized[OTHER], ChangeKind.SUMMARY_REQUESTED)])
    with session_scope(database_url) as session:
        assert session.get(RefreshRequest, summarized[OTHER]).last_change_at == queued  # the debounce holds
    assert queue()[summarized[OTHER]] == ("new data", False) and stale_clients() == {summarized[OTHER]}

    with session_scope(database_url) as session:  # new history after a request flags the summaries stale
        record_change(session, [Change(summarized[CLIENT], ChangeKind.INTERACTION)])
    assert summarized[CLIENT] in queue() and summarized[CLIENT] in stale_clients()


def test_reading_a_missing_summary_queues_it_through_record_change(
    summarized: dict[str, int], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from summarizer import service

    recorded = []
    monkeypatch.setattr(service, "record_change", lambda session, changes: recorded.extend(changes))
    assert (
        service.read_summary(
            str(summarized[CLIENT]), "brief", "ru", database_url=database_url, refresh_languages=["en", "ru"]
        )
        is None
    )
    assert recorded == [Change(summarized[CLIENT], ChangeKind.SUMMARY_REQUESTED)]
