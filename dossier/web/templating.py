"""The Jinja2 templates of the card and message pages, and the helpers they use for citations."""

from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape

from storage.recordings import timestamp
from summarizer.notes import Citation
from summarizer.render import citation_marker, load_labels


def citation_label(citation: dict[str, Any]) -> str:
    """``[#123]`` or ``[#123 @04:12]``, as in the Markdown summaries."""
    return citation_marker(Citation.model_validate(citation))


def citation_href(citation: dict[str, Any]) -> str:
    """Where a citation opens: the source message, or the call transcript at its moment."""
    href = f"/messages/{int(citation['interaction_id'])}"
    if citation.get("at_seconds") is not None:
        href += f"?at={int(citation['at_seconds'])}#at"
    return href


templates = Jinja2Templates(env=Environment(loader=PackageLoader("dossier.web"), autoescape=select_autoescape()))
templates.env.globals.update(
    citation_label=citation_label, citation_href=citation_href, labels=load_labels, timestamp=timestamp
)
