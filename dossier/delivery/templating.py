"""Jinja2 templates and labels of what users receive (digest e-mails, reports), in the reader's language."""

import tomllib
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from summarizer.render import load_labels as load_summary_labels

LABELS_DIR = files("dossier.delivery") / "templates" / "labels"
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


#: Templates rendered to HTML, by how their names end (``digest.html.j2``): every value in them is escaped.
HTML_TEMPLATES = ("html", "html.j2")


@cache
def environment() -> Environment:
    """The template environment: HTML templates are auto-escaped, text templates (``.txt.j2``) are not."""
    return Environment(
        loader=PackageLoader("dossier.delivery"),
        autoescape=select_autoescape(HTML_TEMPLATES),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_template(name: str, **context: Any) -> str:
    """Render ``templates/<name>`` with ``context``."""
    return environment().get_template(name).render(**context)


def channel_names(counts: dict[str, int], names: dict[str, str]) -> str:
    """``"e-mail 3, chats 2"``: channels by descending count, with their localized names."""
    return ", ".join(
        f"{names.get(channel, channel)} {count}"
        for channel, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    )
