"""A fake engine for tests (one claim per source, reduce = concatenation; counts its calls), a fake whose
model writes the brief, and how a test registers an engine by name exactly as an installed plug-in is
registered."""

from importlib.metadata import EntryPoint

import pytest

from summarizer import engines
from summarizer.engines.base import Engine
from summarizer.notes import Citation, Claim, ClaimKind, Notes, Sentence, SourceItem
from summarizer.tokens import estimate_tokens


class FakeEngine(Engine):
    name = "fake"
    translates = False

    def __init__(self, *, language: str = "en", context_tokens: int = 4000):
        super().__init__(language=language)
        self._context = context_tokens
        self.map_calls = 0
        self.reduce_calls = 0

    @property
    def version(self) -> str:
        return "fake-1"

    @property
    def context_tokens(self) -> int:
        return self._context

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def map(self, items: list[SourceItem]) -> Notes:
        self.map_calls += 1
        self.usage.prompt_tokens += sum(self.count_tokens(i.text) for i in items)
        return Notes(
            claims=[
                Claim(
                    kind=ClaimKind.EVENT,
                    text=i.text[:80],
                    date=i.occurred_at.date(),
                    sources=[Citation(interaction_id=i.interaction_id)],
                )
                for i in items
            ],
            interactions=len(items),
        )

    def reduce(self, children: list[Notes], *, level: str) -> Notes:
        self.reduce_calls += 1
        self.usage.prompt_tokens += sum(self.count_tokens(c.model_dump_json()) for c in children)
        return Notes(
            claims=[claim for child in children for claim in child.claims][-8:],
            interactions=sum(c.interactions for c in children),
        )


class WritingFakeEngine(FakeEngine):
    """A fake engine whose model writes the brief: ``sentences`` when given, else each of the root's claims
    as one sentence citing its sources; counts its calls and the clients it wrote about."""

    name = "fake-writer"
    writes = True

    def __init__(self, *, sentences: list[Sentence] | None = None, language: str = "en", context_tokens: int = 4000):
        super().__init__(language=language, context_tokens=context_tokens)
        self.sentences = sentences
        self.write_calls = 0
        self.clients: list[str] = []

    def write(self, notes: Notes, *, client: str) -> list[Sentence]:
        self.write_calls += 1
        self.clients.append(client)
        if self.sentences is not None:
            return list(self.sentences)
        return [Sentence(text=claim.text, sources=claim.sources) for claim in notes.claims]


def register(monkeypatch: pytest.MonkeyPatch, engine: type[Engine]) -> None:
    """Register ``engine`` under its ``name`` for this test: an entry point in the ``dossier.engines`` group,
    as a plug-in's distribution declares it, added where every engine is looked up (``registered``)."""
    entry_point = EntryPoint(engine.name, f"{engine.__module__}:{engine.__qualname__}", engines.GROUP)
    installed = engines.registered
    monkeypatch.setattr(engines, "registered", lambda: {**installed(), engine.name: entry_point})
