"""The grounded engine: the embedded default that needs no model.

Map quotes, classifies and dates sentences of the sources (``summarizer.extract``); reduce is the
shared deterministic merge (``summarizer.merge``). It cannot invent anything, and since it quotes
rather than writes, one tree serves every output language.
"""

import hashlib
from collections.abc import Iterable

from summarizer.engines.base import Engine
from summarizer.extract import make_rules, notes_for
from summarizer.lexicon.grounded import RULES_VERSION
from summarizer.merge import claim_tokens, merge
from summarizer.notes import Notes, SourceItem
from summarizer.sources import format_source
from summarizer.tokens import estimate_tokens

# Tokens of one chunk of sources, and of the children one reduce reads. The tree reduces children
# in groups that fit this (two at a time in its left fold), so every notes this engine writes is
# fitted to a third of it, less room for the fields besides the claims.
CONTEXT_TOKENS = 16000
NOTES_BUDGET_TOKENS = CONTEXT_TOKENS // 3 - 300
DEFAULT_PHONE_REGION = "US"


class GroundedEngine(Engine):
    """Deterministic extraction and merge; ``competitors`` are names to flag as competitor risks, and
    ``phone_region`` (ISO country) reads phone numbers written without a +country code."""

    name = "grounded"
    translates = False

    def __init__(
        self, *, language: str = "en", competitors: Iterable[str] = (), phone_region: str = DEFAULT_PHONE_REGION
    ):
        super().__init__(language=language)
        self.competitors = tuple(sorted({name.strip() for name in competitors if name.strip()}))
        self.phone_region = phone_region
        self.rules = make_rules(self.competitors, self.phone_region)

    @property
    def version(self) -> str:
        """``grounded-<rules version>``, plus a hash of the configuration when it is not the default."""
        version = f"grounded-{RULES_VERSION}"
        if not self.competitors and self.phone_region == DEFAULT_PHONE_REGION:
            return version
        configuration = "|".join([self.phone_region, *self.competitors]).encode()
        return f"{version}-{hashlib.sha256(configuration).hexdigest()[:8]}"

    @property
    def context_tokens(self) -> int:
        return CONTEXT_TOKENS

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def map(self, items: list[SourceItem]) -> Notes:
        """Claims quoted from ``items``; the sources' tokens count as what a model would have read."""
        self.usage.prompt_tokens += sum(self.count_tokens(format_source(item)) for item in items)
        self.usage.calls += 1
        return notes_for(items, self.rules, NOTES_BUDGET_TOKENS)

    def reduce(self, children: list[Notes], *, level: str) -> Notes:
        """The children merged; their claims count as what a model would have read."""
        self.usage.prompt_tokens += sum(claim_tokens(claim) for child in children for claim in child.claims)
        self.usage.calls += 1
        return merge(children, NOTES_BUDGET_TOKENS)
