"""Storage calls that promise an id keep the promise: they return one or raise, never hand back None."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from storage import recordings as store
from storage import repository
from storage.errors import DossierError
from storage.models import ContactKind, Interaction, Recording
from tests.db import session_scope
from transcription.results import Segment, Transcript


def _transcript() -> Transcript:
    segments = (Segment(0.0, 3.0, "Hello, how can I help?", "agent", 0, -0.2, 0.01),)
    return Transcript(
        segments=segments,
        language="en",
        language_probability=0.99,
        language_source="given",
        duration_s=3.0,
        speech_s=3.0,
        channels=1,
        sample_rate=16000,
    )


def test_a_call_of_a_recording_without_client_is_refused_before_anything_is_stored(database_url: str) -> None:
    with session_scope() as session:
        recording = Recording(client_id=None, path="/calls/orphan.wav", content_hash="0" * 64, meta={})
        session.add(recording)
        session.flush()
        with pytest.raises(DossierError, match="belongs to no client"):
            store.store_transcript(session, recording, _transcript(), "tiny.en")
        session.refresh(recording)
        assert recording.status == store.PENDING
        assert session.scalar(select(func.count()).select_from(Interaction)) == 0


def test_a_contact_that_cannot_be_added_raises_instead_of_returning_no_client(database_url: str) -> None:
    with session_scope() as session:
        missing_client = 987_654
        with pytest.raises(IntegrityError):
            repository.add_contacts(
                session, [repository.NewContact(missing_client, ContactKind.EMAIL, "someone@example.org", None)]
            )
