"""Typed models of what an interaction's ``meta`` holds per channel, shared by the writer and every reader.

``Interaction.meta`` is a JSON column; these models are its contract, so a writer and a reader cannot
disagree on a key's name.
"""

from pydantic import BaseModel, ConfigDict


class CallSegment(BaseModel):
    """One transcribed stretch of a call: when it starts and ends (seconds), who speaks, ``mm:ss``."""

    start: float
    end: float
    speaker: str | None = None
    at: str


class CallMeta(BaseModel):
    """``meta`` of a ``call`` interaction: its recording and its segments, one per line of the body."""

    model_config = ConfigDict(extra="forbid")

    recording_id: int
    duration_s: float
    model: str
    segments: list[CallSegment] = []

    @property
    def segment_starts(self) -> list[float]:
        """The start second of each line of the call's body, in order."""
        return [segment.start for segment in self.segments]
