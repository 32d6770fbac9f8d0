"""Engines that turn sources into notes (map) and merge notes (reduce), registered by name.

Every engine, built-in or third-party, registers in the ``dossier.engines`` entry-point group (ours
in this package's ``pyproject.toml``)::

    [project.entry-points."dossier.engines"]
    myengine = "my_package.engine:MyEngine"

An engine is built with keyword arguments only: ``language=`` and, for the built-ins, typed options
(``summarizer.engines.options``) that the application fills from its settings. A plug-in engine
found by name is built with ``language=`` alone, so it needs working defaults and reads its own
configuration; a caller that wants other options passes an ``EngineSpec`` with them. Check a
plug-in with the contract suite in ``summarizer.testing``.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from summarizer.engines.base import Engine, EngineError, Usage

GROUP = "dossier.engines"
DISTRIBUTION = "dossier"  # the distribution whose engines need the llm extra


def registered() -> dict[str, EntryPoint]:
    """Every engine entry point by name (the one place engines are looked up)."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def engine_names() -> list[str]:
    """Every registered engine name, in alphabetical order."""
    return sorted(registered())


def engine_class(name: str) -> type[Engine]:
    """The engine class registered under ``name``; ``EngineError`` if none is or it cannot be imported."""
    entry_point = registered().get(name)
    if entry_point is None:
        raise EngineError(f"unknown engine {name!r}; available: {', '.join(engine_names())}")
    try:
        loaded = entry_point.load()
    except ModuleNotFoundError as error:
        raise EngineError(_missing_module(name, entry_point, error)) from error
    if not (isinstance(loaded, type) and issubclass(loaded, Engine)):
        raise EngineError(f"the {name} engine entry point ({entry_point.value}) is not an Engine subclass")
    return loaded


def _missing_module(name: str, entry_point: EntryPoint, error: ModuleNotFoundError) -> str:
    distribution = entry_point.dist.name if entry_point.dist else None
    if distribution == DISTRIBUTION:
        return f"the {name} engine needs the llm extra ({error.name} is missing): pip install 'dossier[llm]'"
    return f"the {name} engine ({entry_point.value}) cannot be imported: {error.name} is missing"


@dataclass(frozen=True, slots=True)
class EngineSpec:
    """Which engine a run uses and the keyword options (besides ``language``) it is built with.

    Picklable, so worker processes build their own engines from it.
    """

    engine: type[Engine]
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.engine.name

    def build(self, language: str) -> Engine:
        """A new engine writing notes in ``language``."""
        return self.engine(language=language, **self.options)


def engine_spec(name: str) -> EngineSpec:
    """The engine registered under ``name``, built with its defaults (as plug-ins are)."""
    return EngineSpec(engine_class(name))


__all__ = ["Engine", "EngineError", "EngineSpec", "Usage", "engine_class", "engine_names", "engine_spec", "registered"]
