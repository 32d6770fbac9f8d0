"""Jinja2 templates and labels of what users receive (digest e-mails, reports), in the reader's language."""

import re
import textwrap
import tomllib
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from dossier.delivery.links import message_url
from summarizer.plurals import with_plurals
from summarizer.render import load_labels as load_summary_labels

LABELS_DIR = files("dossier.delivery") / "templates" / "labels"
DEFAULT_LANGUAGE = "en"
Labels = dict[str, Any]


def output_language(language: str | None) -> str:
    """``language`` when digests and reports have labels in it, else English."""
    return language if language and (LABELS_DIR / f"{language}.toml").is_file() else DEFAULT_LANGUAGE


@cache
def labels(language: str) -> Labels:
    """The output labels of ``language`` (falling back to English), with the summary labels' channel, side and
    status names and deal wording under ``channels``, ``sides``, ``statuses`` and ``deal``; a label holding a
    count is a :class:`~summarizer.plurals.Plural` (``.format(count=…)`` picks its plural form)."""
    language = output_language(language)
    with (LABELS_DIR / f"{language}.toml").open("rb") as file:
        own = with_plurals(tomllib.load(file), language)
    summary = load_summary_labels(language)
    shared = {key: summary[key] for key in ("channels", "sides", "statuses", "deal")}
    return {**own, **shared}


#: Templates rendered to HTML, by how their names end (``digest.html.j2``): every value in them is escaped.
HTML_TEMPLATES = ("html", "html.j2")


#: Plain-text e-mail lines are at most this wide, as mail readers and terminals show them.
TEXT_WIDTH = 78
#: The space inside a citation marker (``[#12 @01:05]``), kept while wrapping so a marker stays on one line.
_MARKER_SPACE = re.compile(r"(\[#\d+) (@[\d:]+\])")
_KEPT_SPACE = "\u00a0"


def wrap(text: str, first: str = "", rest: str = "") -> str:
    """``text`` as lines of at most :data:`TEXT_WIDTH` characters, the first indented by ``first``, the others
    by ``rest``; words and citation markers are never split."""
    kept = _MARKER_SPACE.sub(rf"\1{_KEPT_SPACE}\2", text)
    lines = textwrap.wrap(
        kept, TEXT_WIDTH, initial_indent=first, subsequent_indent=rest, break_long_words=False, break_on_hyphens=False
    )
    return "\n".join(lines).replace(_KEPT_SPACE, " ")


@cache
def environment() -> Environment:
    """The template environment: HTML templates are auto-escaped, text templates (``.txt.j2``) are not; the
    ``wrap`` filter fits plain text to :data:`TEXT_WIDTH` columns; ``message_url`` links a citation."""
    env = Environment(
        loader=PackageLoader("dossier.delivery"),
        autoescape=select_autoescape(HTML_TEMPLATES),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = wrap
    env.globals["message_url"] = message_url
    return env


def render_template(name: str, **context: Any) -> str:
    """Render ``templates/<name>`` with ``context``."""
    return environment().get_template(name).render(**context)


def channel_names(counts: dict[str, int], names: dict[str, str]) -> str:
    """``"e-mail 3, chats 2"``: channels by descending count, with their localized names."""
    return ", ".join(
        f"{names.get(channel, channel)} {count}"
        for channel, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    )
