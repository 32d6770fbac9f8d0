"""The engine interface every backend implements, and its usage accounting."""

from abc import ABC, abstractmethod
from dataclasses import dataclass

from storage.errors import DossierError
from summarizer.notes import Notes, Sentence, SourceItem


class EngineError(DossierError):
    """An engine cannot run: missing model, bad configuration, unreachable endpoint."""


@dataclass(slots=True)
class Usage:
    """Tokens sent to and received from a model, and what they cost."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    cost: float = 0.0
    fallbacks: int = 0  # chunks whose model output stayed invalid and went to the grounded engine

    def add(self, other: "Usage") -> None:
        """Accumulate ``other`` into this usage."""
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.calls += other.calls
        self.cost += other.cost
        self.fallbacks += other.fallbacks


class Engine(ABC):
    """Map: a chunk of sources -> notes. Reduce: children notes -> one parent's notes.

    An engine instance writes notes in one output ``language``. ``version`` changes whenever the
    model, prompts or language would change the notes, and keys every stored tree node.
    """

    name: str
    #: False for engines whose notes quote sources verbatim whatever the output language: one tree
    #: then serves every language, and only the rendering differs.
    translates: bool = True
    #: True for engines whose model writes the brief from the root's claims (``write``); the tree then
    #: stores one more node over the root, and the brief renders those sentences.
    writes: bool = False

    def __init__(self, *, language: str = "en"):
        self.language = language
        self.usage = Usage()

    @property
    def tree_id(self) -> str:
        """Which stored tree this engine reads and writes (one per language if it translates)."""
        return f"{self.name}:{self.language}" if self.translates else self.name

    @property
    @abstractmethod
    def version(self) -> str:
        """Identity of model + prompts + output language, part of every node hash."""

    @property
    @abstractmethod
    def context_tokens(self) -> int:
        """Tokens one map or reduce call may send, headroom for the answer already taken off."""

    @property
    def reduce_tokens(self) -> int:
        """Tokens of the children one reduce reads: the context, unless the reduce sends nothing to a model."""
        return self.context_tokens

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` costs with this engine's tokenizer (an estimate where there is none)."""

    @abstractmethod
    def map(self, items: list[SourceItem]) -> Notes:
        """Notes for one chunk of sources; every claim cites only these items."""

    @abstractmethod
    def reduce(self, children: list[Notes], *, level: str) -> Notes:
        """Merge children notes: later facts supersede earlier ones, duplicates merge."""

    def write(self, notes: Notes, *, client: str) -> list[Sentence]:
        """The brief about ``client`` as prose in this engine's language, written from the root's ``notes``,
        each sentence citing the sources of the claims it used; engines that do not write return []."""
        return []
