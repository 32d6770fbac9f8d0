"""Jinja2 templates and labels of what users receive (digest e-mails, reports), in the reader's language."""

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from summarizer.render import load_labels as load_summary_labels

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LABELS_DIR = TEMPLATES_DIR / "labels"
DEFAULT_LANGUAGE = "en"
Labels = dict[str, Any]


def output_language(language: str | None) -> str:
    """``language`` when digests and reports have labels in it, else English."""
    return language if language and (LABELS_DIR / f"{language}.toml").is_file() else DEFAULT_LANGUAGE


@cache
def labels(language: str) -> Labels:
    """The output labels of ``language`` (falling back to English), with the summary labels' channel,
    side and status names under ``channels``, ``sides`` and ``statuses``."""
    language = output_language(language)
    with (LABELS_DIR / f"{language}.toml").open("rb") as file:
        own = tomllib.load(file)
    summary = load_summary_labels(language)
    return {**own, "channels": summary["channels"], "sides": summary["sides"], "statuses": summary["statuses"]}


@cache
def environment() -> Environment:
    """The template environment: HTML templates are auto-escaped, text templates are not."""
    return Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render_template(name: str, **context: Any) -> str:
    """Render ``templates/<name>`` with ``context``."""
    return environment().get_template(name).render(**context)


def channel_names(counts: dict[str, int], names: dict[str, str]) -> str:
    """``"e-mail 3, chats 2"``: channels by descending count, with their localized names."""
    return ", ".join(f"{names.get(channel, channel)} {count}"
                     for channel, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
