"""Prompt templates kept as files under ``prompts/``, and a version that changes with their text."""

import hashlib
from functools import cache
from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
SYSTEM_PROMPT = "system"


def _read(name: str) -> str:
    return (PROMPTS_DIR / f"{name}.md").read_text(encoding="utf-8")


def _prompt_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(PROMPTS_DIR.glob("*.md")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


PROMPT_VERSION = _prompt_version()


@cache
def load_prompt(name: str) -> ChatPromptTemplate:
    """The chat prompt for step ``name`` (``map``, ``reduce``): the system prompt, then the step's file."""
    return ChatPromptTemplate.from_messages([("system", _read(SYSTEM_PROMPT)), ("human", _read(name))])
