"""What makes a change to a client's history an important event: closing deal stages, complaint words.

General rules only, shared by the writers (through :mod:`storage.changes`) and the notifications.
"""

import re

#: Deal stages that close a deal (compared lower-cased); a client's summaries are regenerated at once.
WON_STAGES = frozenset({"won", "closed won", "closed_won"})
LOST_STAGES = frozenset({"lost", "closed lost", "closed_lost"})
CLOSING_STAGES = WON_STAGES | LOST_STAGES

#: Directions of messages whose text can carry a client's complaint: theirs, and our internal notes about them.
CLIENT_SIDE = frozenset({"inbound", "internal"})

#: The speaker label of our side of a call (see ``transcribe_speakers``); every other voice counts as the client's.
AGENT_SPEAKER = "agent"

#: Words that make a client-side message an important event (regenerate at once, notify the owner).
ESCALATION = re.compile(r"\b(?:complain\w*|escalat\w*|жалоб\w*|претензи\w*|эскалаци\w*|reklamacj\w*|skarg\w*|"
                        r"eskalacj\w*)", re.IGNORECASE)


def closes_deal(stage: str | None) -> bool:
    """Whether a deal moved to ``stage`` is closed (won or lost)."""
    return (stage or "").strip().lower() in CLOSING_STAGES


def complains(text: str) -> bool:
    """Whether client-side ``text`` complains or escalates."""
    return ESCALATION.search(text) is not None
