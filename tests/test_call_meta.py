"""The moments of a call reach every engine: the writer and the reader share one typed ``meta`` model."""

from pathlib import Path

import numpy as np
from sqlalchemy import select

from storage import recordings as store
from storage.meta import CallMeta
from storage.models import Channel, Interaction, Recording
from summarizer.sources import to_source_item
from tests.audio_files import write_sidecar, write_wav
from tests.db import import_paths, session_scope
from transcription.results import Segment, Transcript


def transcript() -> Transcript:
    segments = (
        Segment(0.0, 4.5, "Good morning, this is Dana from sales.", "agent", 0, -0.2, 0.01),
        Segment(4.5, 11.0, "We will order 40 pallets next week.", "client", 1, -0.2, 0.01),
        Segment(71.25, 80.0, "Then I send the contract on Friday.", "agent", 0, -0.2, 0.01),
    )
    return Transcript(
        segments=segments,
        language="en",
        language_probability=0.99,
        language_source="given",
        duration_s=80.0,
        speech_s=24.0,
        channels=2,
        sample_rate=8000,
    )


def test_a_transcribed_call_gives_engines_the_start_of_every_line(database_url: str, tmp_path: Path) -> None:
    tone = 0.1 * np.sin(np.linspace(0, 2000 * np.pi, 8000))
    path = write_wav(tmp_path / "call.wav", [tone, tone[::-1]], 8000)
    write_sidecar(path, client="Pallet Buyers Ltd", started_at="2026-11-12T10:00:00+00:00", language="en")
    assert import_paths([tmp_path], kind="calls").imported == 1
    with session_scope() as session:
        recording = session.scalars(select(Recording)).one()
        store.store_transcript(session, recording, transcript(), "tiny.en")
        session.commit()
        call = session.scalars(select(Interaction).where(Interaction.channel == Channel.CALL)).one()
        item = to_source_item(call)
        assert CallMeta.model_validate(call.meta).recording_id == recording.id
    assert item.segment_starts == [0.0, 4.5, 71.25]
    assert len(item.segment_starts) == len(item.text.splitlines())
