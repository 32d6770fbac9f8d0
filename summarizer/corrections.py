"""Readers' corrections in the tree: they supersede the claims they correct, at every node, whatever the engine.

A correction comes from a note the application marked (``storage.corrections``); no engine reads it and no engine
can make one. Every node the tree keeps loses the claims a correction supersedes (see :func:`supersedes`); the root
and the prose node carry the corrections themselves, which every format renders first, with the author's name.
"""

import hashlib
from collections.abc import Sequence

from storage.corrections import StoredCorrection
from summarizer.merge import normalize
from summarizer.notes import Claim, ClaimKind, CorrectedClaim, Correction, Notes
from summarizer.redact import redact

#: The levels whose notes carry the corrections themselves (every level loses what they supersede).
CARRYING_LEVELS = frozenset({"root", "prose"})


def claim_hash(claim: Claim) -> str:
    """The sha256 of a claim's text, case, punctuation and spacing ignored: how a correction names it."""
    return hashlib.sha256(normalize(claim.text).encode()).hexdigest()


def corrected_claim(claim: Claim) -> CorrectedClaim:
    """The identity of ``claim`` as a correction records it."""
    return CorrectedClaim(
        kind=claim.kind,
        topic=claim.topic,
        text_hash=claim_hash(claim),
        sources=sorted({source.interaction_id for source in claim.sources}),
    )


def to_correction(stored: StoredCorrection) -> Correction:
    """The tree's view of a stored correction: its note's (redacted) text and author, and what it corrects."""
    note, mark = stored
    corrects = None
    if mark.claim_kind is not None and mark.claim_hash is not None:
        corrects = CorrectedClaim(
            kind=ClaimKind(mark.claim_kind),
            topic=mark.claim_topic,
            text_hash=mark.claim_hash,
            sources=[int(source) for source in mark.claim_sources],
        )
    return Correction(
        interaction_id=note.id,
        occurred_at=note.occurred_at,
        author=note.author or "",
        text=redact(note.body),
        corrects=corrects,
    )


def supersedes(correction: Correction, claim: Claim) -> bool:
    """Whether ``correction`` supersedes ``claim``: the corrected claim itself (the same text), or a claim said no
    later than the correction that states the same fact (the same kind and topic; without a topic, the same kind
    citing only sources the corrected claim cited, as another engine words it). A later claim is new history."""
    target = correction.corrects
    if target is None:
        return False
    if claim_hash(claim) == target.text_hash:
        return True
    if claim.kind != target.kind or (claim.date is not None and claim.date > correction.occurred_at.date()):
        return False
    if target.topic is not None:
        return claim.topic == target.topic
    cited = {source.interaction_id for source in claim.sources}
    return claim.topic is None and cited <= set(target.sources)


def apply_corrections(notes: Notes, corrections: Sequence[Correction], *, level: str) -> Notes:
    """``notes`` of a ``level`` node without the claims ``corrections`` supersede; the root and prose nodes carry
    ``corrections``, every other node none (whatever an engine put there)."""
    if not corrections and not notes.corrections:
        return notes
    claims = [claim for claim in notes.claims if not any(supersedes(fix, claim) for fix in corrections)]
    carried = list(corrections) if level in CARRYING_LEVELS else []
    return notes.model_copy(update={"claims": claims, "corrections": carried})
