"""Corrections as the application makes them: the claims a reader may correct (those of the summary they read) and
storing a correction of one of them, or of the summary as a whole."""

from typing import NamedTuple

from sqlalchemy.orm import Session

from storage import corrections, summaries
from storage.corrections import CorrectionTarget, StoredCorrection
from storage.models import User
from summarizer.corrections import claim_hash, corrected_claim
from summarizer.merge import is_evidence
from summarizer.notes import Claim, ClaimKind, is_steering_risk


class CorrectableClaim(NamedTuple):
    """A claim a reader may correct: its hash (what the form sends), kind and text."""

    hash: str
    kind: ClaimKind
    text: str


class ReadTree(NamedTuple):
    """The root claims of the summary a reader reads, and the engine that built it."""

    engine: str | None
    claims: list[Claim]


def read_tree(session: Session, client_id: int, scopes: tuple[str, ...], language: str) -> ReadTree:
    """The shown claims (no evidence, no steering risks) of the newest root built from exactly ``scopes`` (the
    ``language`` tree of an engine that translates); none before the client is summarized for them."""
    root = summaries.newest_root(session, client_id, scopes, language)
    if root is None:
        return ReadTree(None, [])
    claims = [Claim.model_validate(claim) for claim in root.notes.get("claims", [])]
    return ReadTree(root.engine, [claim for claim in claims if not is_evidence(claim) and not is_steering_risk(claim)])


def correctable_claims(tree: ReadTree) -> dict[ClaimKind, list[CorrectableClaim]]:
    """The tree's claims a reader may pick to correct, by kind in the kinds' order, each once."""
    found: dict[ClaimKind, dict[str, CorrectableClaim]] = {}
    for claim in tree.claims:
        key = claim_hash(claim)
        found.setdefault(claim.kind, {}).setdefault(key, CorrectableClaim(key, claim.kind, claim.text.strip()))
    return {kind: list(found[kind].values()) for kind in ClaimKind if kind in found}


def correct(
    session: Session,
    *,
    client_id: int,
    author: User,
    scopes: tuple[str, ...],
    language: str,
    text: str,
    claim: str | None = None,
) -> StoredCorrection | None:
    """Store ``author``'s correction of the claim whose hash is ``claim`` in the summary they read (None: of the
    summary as a whole); None, storing nothing, when that summary holds no such claim."""
    tree = read_tree(session, client_id, scopes, language)
    target = None
    if claim:
        found = next((c for c in tree.claims if claim_hash(c) == claim), None)
        if found is None:
            return None
        identity = corrected_claim(found)
        target = CorrectionTarget(identity.kind.value, identity.topic, identity.text_hash, tuple(identity.sources))
    return corrections.record_correction(
        session, client_id=client_id, author=author, text=text, reader_scopes=scopes, claim=target, engine=tree.engine
    )
