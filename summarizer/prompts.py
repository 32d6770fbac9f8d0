"""Prompt templates kept as files under ``prompts/`` (package data), and a version that changes with their text."""

import hashlib
from functools import cache
from importlib.resources import files

from langchain_core.prompts import ChatPromptTemplate

PROMPTS_DIR = files("prompts")
SYSTEM_PROMPT = "system"


def _read(name: str) -> str:
    return (PROMPTS_DIR / f"{name}.md").read_text(encoding="utf-8")


def _prompt_version() -> str:
    digest = hashlib.sha256()
    for path in sorted((entry for entry in PROMPTS_DIR.iterdir() if entry.name.endswith(".md")), key=lambda e: e.name):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


PROMPT_VERSION = _prompt_version()


@cache
def load_prompt(name: str) -> ChatPromptTemplate:
    """The chat prompt for step ``name`` (``map``, ``reduce``): the system prompt, then the step's file."""
    return ChatPromptTemplate.from_messages([("system", _read(SYSTEM_PROMPT)), ("human", _read(name))])
