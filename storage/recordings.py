"""Call recordings in the database: which to transcribe, quarantine, and storing a transcript as a call."""

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from storage import repository
from storage.changes import call_change, record_change
from storage.errors import DossierError
from storage.meta import CallMeta, CallSegment
from storage.models import (
    PUBLIC_SCOPE,
    Channel,
    Interaction,
    Recording,
    TranscriptSegment,
    utcnow,
)

if TYPE_CHECKING:
    from transcription.results import Transcript

PENDING, DONE, QUARANTINED = "pending", "done", "quarantined"
SOURCE_KIND = "calls"


def pending_recordings(session: Session) -> list[Recording]:
    """Recordings never transcribed, oldest registration first."""
    return list(session.scalars(select(Recording).where(Recording.status == PENDING).order_by(Recording.id)))


def recordings_by_id(session: Session, ids: Sequence[int]) -> list[Recording]:
    """The recordings with these ids, in id order (unknown ids are left out)."""
    return list(session.scalars(select(Recording).where(Recording.id.in_(ids)).order_by(Recording.id)))


def clients_of_done(session: Session, recording_ids: Sequence[int]) -> list[int]:
    """The clients of those of these recordings that are transcribed (done), in id order."""
    return sorted(
        set(
            session.scalars(
                select(Recording.client_id).where(
                    Recording.id.in_(recording_ids), Recording.status == DONE, Recording.client_id.is_not(None)
                )
            )
        )
    )


def mark_quarantined(session: Session, recording: Recording, reason: str) -> None:
    """Set a recording aside with the reason; it is listed by ``dossier quarantine``."""
    recording.status = QUARANTINED
    recording.meta = {**recording.meta, "quarantine_reason": reason}
    repository.add_quarantine(
        session,
        source_path=recording.path,
        source_kind=SOURCE_KIND,
        item_ref=f"recording {recording.id}",
        reason=reason,
        raw=None,
        import_run_id=None,
    )


def store_transcript(session: Session, recording: Recording, transcript: "Transcript", model: str) -> int | None:
    """Store the segments and the ``call`` interaction, mark the recording done and record the change (the
    client's summaries go stale, its refresh is queued); return the interaction id.

    Returns None (storing nothing) when another run finished the recording first. Call once per
    recording inside one transaction: a crash before the commit leaves the recording pending.
    Raises ``DossierError`` for a recording that belongs to no client (a call needs one).
    """
    client_id = recording.client_id
    if client_id is None:
        raise DossierError(f"recording {recording.id} belongs to no client: its call cannot be stored")
    # an UPDATE's result is a CursorResult, which has the rowcount
    claimed = cast(
        CursorResult[Any],
        session.execute(
            update(Recording).where(Recording.id == recording.id, Recording.status != DONE).values(status=DONE)
        ),
    )
    if claimed.rowcount != 1:
        return None
    session.execute(delete(TranscriptSegment).where(TranscriptSegment.recording_id == recording.id))
    session.add_all(
        TranscriptSegment(
            recording_id=recording.id,
            start_s=s.start,
            end_s=s.end,
            speaker=s.speaker,
            channel=s.channel,
            text=s.text,
            avg_logprob=s.avg_logprob,
            no_speech_prob=s.no_speech_prob,
        )
        for s in transcript.segments
    )
    interaction_id = _add_call(session, recording, transcript, model)
    record_change(session, [call_change(client_id, ((s.speaker, s.text) for s in transcript.segments))])
    meta = {key: value for key, value in recording.meta.items() if key != "quarantine_reason"}
    meta.update(
        language_probability=round(transcript.language_probability, 3),
        language_source=transcript.language_source,
        speech_s=round(transcript.speech_s, 2),
        dropped_segments=dict(transcript.dropped),
    )
    session.execute(
        update(Recording)
        .where(Recording.id == recording.id)
        .values(
            interaction_id=interaction_id,
            duration_s=transcript.duration_s,
            channels=transcript.channels,
            sample_rate=transcript.sample_rate,
            language=transcript.language,
            model=model,
            meta=meta,
        )
    )
    return interaction_id


def call_content_hash(audio_hash: str) -> str:
    """The content hash of the call interaction made from a recording's audio."""
    return hashlib.sha256(f"recording:{audio_hash}".encode()).hexdigest()


def timestamp(seconds: float) -> str:
    """``mm:ss`` (``h:mm:ss`` from one hour) of a position in a recording."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def dialogue(transcript: "Transcript") -> str:
    """The call as lines ``[mm:ss] speaker: text``, in time order."""
    return "\n".join(f"[{timestamp(s.start)}] {s.speaker}: {s.text}" for s in transcript.segments)


def _add_call(session: Session, recording: Recording, transcript: "Transcript", model: str) -> int:
    content_hash = call_content_hash(recording.content_hash)
    phone = recording.meta.get("phone")
    participants = [
        {"name": recording.agent, "kind": None, "value": None, "role": "agent"},
        {
            "name": recording.meta.get("client_name"),
            "kind": "phone" if phone else None,
            "value": phone,
            "role": "client",
        },
    ]
    row: dict[str, Any] = {
        "client_id": recording.client_id,
        "channel": Channel.CALL.value,
        "direction": recording.direction,
        "author": recording.agent,
        "author_contact": None,
        "participants": participants,
        "occurred_at": recording.started_at or recording.created_at,
        "language": transcript.language,
        "subject": None,
        "body": dialogue(transcript),
        "source_kind": SOURCE_KIND,
        "source_ref": f"recording:{recording.id}",
        "external_id": recording.content_hash,
        "content_hash": content_hash,
        "scope": PUBLIC_SCOPE,
        "privileged": False,
        "deal_id": None,
        "meta": CallMeta(
            recording_id=recording.id,
            duration_s=round(transcript.duration_s, 2),
            model=model,
            segments=[
                CallSegment(start=round(s.start, 2), end=round(s.end, 2), speaker=s.speaker, at=timestamp(s.start))
                for s in transcript.segments
            ],
        ).model_dump(),
        "import_run_id": None,
        "imported_at": utcnow(),
    }
    repository.insert_interactions(session, [row])
    return session.execute(select(Interaction.id).where(Interaction.content_hash == content_hash)).scalar_one()
