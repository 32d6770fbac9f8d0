"""The typed intermediate of the summary tree: sources going in, claims with citations coming out."""

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, Field


class ClaimKind(StrEnum):
    STATUS = "status"  # where things stand now ("quote approved", "waiting for the decision")
    AGREEMENT = "agreement"  # what both sides agreed (price, terms, discount)
    ACTION = "action"  # a promise or task: who does what by when
    RISK = "risk"  # complaint, competitor, cooling tone, a rare critical mention
    EVENT = "event"  # dated fact for the timeline: first contact, deal won, incident, resolution
    PERSON = "person"  # a person and their role
    PREFERENCE = "preference"  # how and when they like to be contacted
    PURCHASE = "purchase"  # what they buy or are interested in, with amounts


class Side(StrEnum):
    US = "us"
    CLIENT = "client"


class Citation(BaseModel):
    """Where a claim comes from: an interaction, and for calls the second in the recording."""

    interaction_id: int
    at_seconds: float | None = None


class Claim(BaseModel):
    """One statement about the client, grounded in the cited interactions."""

    kind: ClaimKind
    text: str = Field(description="one sentence")
    date: dt.date | None = Field(default=None, description="when it happened or was said")
    topic: str | None = Field(default=None, description="a later claim with the same topic supersedes this one")
    owner: str | None = Field(default=None, description="actions: who must act")
    owner_side: Side | None = None
    due: dt.date | None = Field(default=None, description="actions: due date")
    done: bool = False
    weight: float = Field(default=0.0, description="salience; higher is more important")
    sources: list[Citation] = Field(min_length=1)


class Sentence(BaseModel):
    """One sentence of prose a model wrote from a root's claims, citing the sources of the claims it used."""

    text: str
    sources: list[Citation] = Field(min_length=1)


class CorrectedClaim(BaseModel):
    """Which claim a correction supersedes: its kind, topic, the sha256 of its normalized text, its sources."""

    kind: ClaimKind
    topic: str | None = None
    text_hash: str
    sources: list[int] = Field(default_factory=list)


class Correction(BaseModel):
    """A reader's correction (see ``summarizer.corrections``): the highest authority, shown in every format with
    its author's name. Only the tree sets these, from corrections the application marked; engines never do."""

    interaction_id: int = Field(description="the correction note, cited")
    occurred_at: dt.datetime
    author: str
    text: str
    corrects: CorrectedClaim | None = Field(default=None, description="None: a correction of the summary as a whole")


class Notes(BaseModel):
    """The claims for a chunk or a time bucket, and what it covered."""

    claims: list[Claim] = Field(default_factory=list)
    interactions: int = 0
    first_at: dt.datetime | None = None
    last_at: dt.datetime | None = None
    channels: dict[str, int] = Field(default_factory=dict)
    tone: dict[str, float] = Field(default_factory=dict, description="ISO month -> mean tone of client messages, -1..1")
    fallbacks: int = Field(default=0, description="chunks an LLM engine left to the grounded engine")
    brief: list[Sentence] = Field(
        default_factory=list, description="the tree's last node only: the brief a model wrote from the claims"
    )
    corrections: list[Correction] = Field(
        default_factory=list, description="the root and prose nodes only: readers' corrections, oldest first"
    )


class SourceItem(BaseModel):
    """One interaction as an engine sees it: redacted text, no privileged items, ids to cite."""

    interaction_id: int
    occurred_at: dt.datetime
    channel: str
    direction: str
    author: str | None
    subject: str | None
    text: str
    signature: str = ""
    language: str | None = None
    segment_starts: list[float] = Field(default_factory=list, description="calls: start second of each text line")
    steering: bool = Field(default=False, description="text addressing the summarizer was cut out of it")


#: Topic prefix of the one risk a message that tried to steer the summary gets (``steering:<interaction id>``).
STEERING_TOPIC = "steering"


def is_steering_risk(claim: Claim) -> bool:
    """Whether ``claim`` is the summarizer's own risk about a message that tried to steer the summary."""
    return claim.kind == ClaimKind.RISK and (claim.topic or "").startswith(f"{STEERING_TOPIC}:")
