"""Engines that turn sources into notes (map) and merge notes (reduce), registered by name.

Built-in engines register themselves on import; third-party engines are found through the
``dossier.engines`` entry-point group, like plug-ins.
"""

from importlib import import_module
from importlib.metadata import entry_points

from summarizer.engines.base import Engine, EngineError, Usage

BUILTIN = {
    "grounded": "summarizer.engines.grounded:GroundedEngine",
    "llamacpp": "summarizer.engines.llamacpp:LlamaCppEngine",
    "openai": "summarizer.engines.openai:OpenAIEngine",
}


def engine_names() -> list[str]:
    """Every engine name: built-ins first, then plug-ins."""
    plugins = [ep.name for ep in entry_points(group="dossier.engines") if ep.name not in BUILTIN]
    return [*BUILTIN, *plugins]


def engine_class(name: str) -> type[Engine]:
    """The engine class registered under ``name``."""
    if name in BUILTIN:
        module, _, attribute = BUILTIN[name].partition(":")
        try:
            return getattr(import_module(module), attribute)
        except ModuleNotFoundError as error:
            raise EngineError(f"the {name} engine needs the llm extra ({error.name} is missing): "
                              f"pip install -e '.[llm]'") from error
    for entry_point in entry_points(group="dossier.engines", name=name):
        return entry_point.load()
    raise EngineError(f"unknown engine {name!r}; available: {', '.join(engine_names())}")


__all__ = ["Engine", "EngineError", "Usage", "engine_class", "engine_names"]
