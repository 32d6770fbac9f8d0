"""The Jinja2 templates of the web pages, the labels of their chrome in the page's language, and the helpers
they use for citations."""

import tomllib
from functools import cache
from http import HTTPStatus
from importlib.resources import files
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape

from storage.recordings import timestamp
from summarizer.notes import Citation
from summarizer.render import citation_marker, load_labels

WEB_LABELS_DIR = files("dossier.web") / "labels"
#: The pages' language when neither the reader nor the browser names a supported one.
DEFAULT_LANGUAGE = "en"


@cache
def web_languages() -> tuple[str, ...]:
    """The languages the pages' chrome is written in (one label file each)."""
    return tuple(sorted(p.name.removesuffix(".toml") for p in WEB_LABELS_DIR.iterdir() if p.name.endswith(".toml")))


@cache
def web_labels(language: str) -> dict[str, Any]:
    """The chrome labels of ``language`` (English for a language without a label file)."""
    name = language if language in web_languages() else DEFAULT_LANGUAGE
    with WEB_LABELS_DIR.joinpath(f"{name}.toml").open("rb") as file:
        return tomllib.load(file)


def accepted_language(header: str) -> str:
    """The first supported language of an ``Accept-Language`` header (by preference), else English."""
    ranked: list[tuple[float, str]] = []
    for entry in header.split(","):
        tag, _, params = entry.strip().partition(";")
        weight = params.strip().removeprefix("q=")
        try:
            quality = float(weight) if weight else 1.0
        except ValueError:
            quality = 0.0
        ranked.append((quality, tag.split("-")[0].strip().lower()))
    supported = web_languages()
    ranked.sort(key=lambda pair: -pair[0])
    return next((tag for quality, tag in ranked if quality > 0 and tag in supported), DEFAULT_LANGUAGE)


def page_language(request: Request) -> str:
    """The page's language: the reader's (``request.state.language``, set once they are known), else the
    browser's first supported one."""
    return getattr(request.state, "language", None) or accepted_language(request.headers.get("accept-language", ""))


def page_labels(request: Request) -> dict[str, Any]:
    """The chrome labels of the page answering ``request``."""
    return web_labels(page_language(request))


def _chrome(request: Request) -> dict[str, Any]:
    """Every template's ``language`` (``<html lang>``, the summaries' labels) and ``T`` (its chrome labels)."""
    language = page_language(request)
    return {"language": language, "T": web_labels(language)}


def citation_label(citation: dict[str, Any]) -> str:
    """``[#123]`` or ``[#123 @04:12]``, as in the Markdown summaries."""
    return citation_marker(Citation.model_validate(citation))


def citation_href(citation: dict[str, Any]) -> str:
    """Where a citation opens: the source message, or the call transcript at its moment."""
    href = f"/messages/{int(citation['interaction_id'])}"
    if citation.get("at_seconds") is not None:
        href += f"?at={int(citation['at_seconds'])}#at"
    return href


def standard_phrase(status: int) -> str:
    """The HTTP reason phrase of ``status`` ("Not Found"), the detail of errors nobody worded."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


templates = Jinja2Templates(
    env=Environment(loader=PackageLoader("dossier.web"), autoescape=select_autoescape()), context_processors=[_chrome]
)
templates.env.globals.update(
    citation_label=citation_label,
    citation_href=citation_href,
    labels=load_labels,
    timestamp=timestamp,
    standard_phrase=standard_phrase,
)
