"""Citations as links to their message pages in the web app, for what users receive.

HTML mail and reports link each marker in place (their templates call ``message_url``); a plain-text mail keeps
its markers and ends with the list :func:`sources_text` writes, each cited marker once with its address.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dossier.delivery.claims import Cited, distinct_markers
from dossier.delivery.links import message_url
from dossier.delivery.templating import wrap
from summarizer.notes import Citation

#: How the lines of the plain-text sources list are indented: a marker, and its address when it has to go below.
LINK_INDENT = "   "
URL_INDENT = "      "


@dataclass(frozen=True, slots=True)
class SourceLink:
    """A citation marker and the address of what it cites."""

    marker: str
    url: str


def source_links(cites: Iterable[Cited], *, public_base_url: str | None) -> list[SourceLink]:
    """Each distinct marker of ``cites`` with its message page in the web app at ``public_base_url`` (a call's at
    the cited second), in order of first citation; none without that address."""
    if not public_base_url:
        return []
    return [
        SourceLink(cite.marker, message_url(public_base_url, cite.interaction_id, cite.at_seconds))
        for cite in distinct_markers(cites)
    ]


def sources_text(links: list[SourceLink], *, title: str) -> str:
    """The plain-text list of ``links`` under ``title``, a marker and its address a line (the address on its own
    line below when both do not fit; never broken); empty without links."""
    if not links:
        return ""
    width = max(len(link.marker) for link in links)
    lines = [wrap(f"{link.marker:<{width}} {link.url}", LINK_INDENT, URL_INDENT) for link in links]
    return "\n".join([title, *lines]) + "\n"


def summary_citations(content: Any) -> list[Cited]:
    """The citations of a stored rendered summary's ``content`` (every line's ``citations``), in order."""
    if isinstance(content, dict):
        own = [Cited.of(Citation.model_validate(c)) for c in content.get("citations", [])]
        return own + [cite for key, value in content.items() if key != "citations" for cite in summary_citations(value)]
    if isinstance(content, list):
        return [cite for value in content for cite in summary_citations(value)]
    return []
