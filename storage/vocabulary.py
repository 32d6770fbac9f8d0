"""What makes a change to a client's history an important event: closing deal stages, complaint words.

General rules only, shared by the writers (through :mod:`storage.changes`) and the notifications.
"""

import re

#: Deal stages that close a deal, as CRMs spell them; compare through ``deal_stage`` ("Closed-Won" = "closed won").
WON_STAGES = frozenset({"won", "closed won"})
LOST_STAGES = frozenset({"lost", "closed lost"})
CLOSED_STAGES = WON_STAGES | LOST_STAGES | {"closed"}
#: The stages an accepted suggestion moves a deal to ("we signed", "we chose another supplier").
WON_STAGE, LOST_STAGE = "won", "lost"
#: Every spelling of a won stage that ``deal_stage`` folds to one of ``WON_STAGES``, for SQL filters.
WON_STAGE_SPELLINGS = frozenset(
    f"{words[0]}{separator}{words[1]}" if len(words) == 2 else words[0]
    for words in (stage.split() for stage in WON_STAGES)
    for separator in " _-"
)

#: Directions of messages whose text can carry a client's complaint: theirs, and our internal notes about them.
CLIENT_SIDE = frozenset({"inbound", "internal"})

#: The speaker label of our side of a call (see ``transcribe_speakers``); every other voice counts as the client's.
AGENT_SPEAKER = "agent"

#: Words that make a client-side message an important event (regenerate at once, notify the owner).
ESCALATION = re.compile(
    r"\b(?:complain\w*|escalat\w*|жалоб\w*|претензи\w*|эскалаци\w*|reklamacj\w*|skarg\w*|"
    r"eskalacj\w*)",
    re.IGNORECASE,
)


def deal_stage(stage: str | None) -> str:
    """A deal stage as compared: lower-case, ``_`` and ``-`` as spaces, single spaces."""
    return " ".join((stage or "").lower().replace("_", " ").replace("-", " ").split())


def closes_deal(stage: str | None) -> bool:
    """Whether a deal moved to ``stage`` is closed (won, lost or just closed)."""
    return deal_stage(stage) in CLOSED_STAGES


def wins_deal(stage: str | None) -> bool:
    """Whether a deal moved to ``stage`` is won."""
    return deal_stage(stage) in WON_STAGES


def loses_deal(stage: str | None) -> bool:
    """Whether a deal moved to ``stage`` is lost."""
    return deal_stage(stage) in LOST_STAGES


def complains(text: str) -> bool:
    """Whether client-side ``text`` complains or escalates."""
    return ESCALATION.search(text) is not None
