"""The API reference (Swagger UI) and its OpenAPI schema, for authenticated readers only.

Swagger UI loads its script and style sheet from a CDN and starts with one inline script, so its page
carries its own Content-Security-Policy: that CDN, that script by hash, inline styles (Swagger UI sets
them); it shows no client data.
"""

import base64
import hashlib
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from dossier.web.auth import Reader, current_reader

DOCS_URL = "/api/docs"
OPENAPI_URL = "/api/openapi.json"
SWAGGER_CDN = "https://cdn.jsdelivr.net"
FAVICON_ORIGIN = "https://fastapi.tiangolo.com"
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

router = APIRouter(include_in_schema=False)
AuthReader = Annotated[Reader, Depends(current_reader)]


def docs_policy(page: str) -> str:
    """The Content-Security-Policy of a Swagger UI page: its CDN and exactly its own inline scripts."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in INLINE_SCRIPT.findall(page)
    )
    return (
        f"default-src 'self'; script-src 'self' {SWAGGER_CDN} {hashes}; "
        f"style-src 'self' {SWAGGER_CDN} 'unsafe-inline'; img-src 'self' data: {FAVICON_ORIGIN}; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


@router.get(OPENAPI_URL)
def openapi_schema(request: Request, _reader: AuthReader) -> JSONResponse:
    """The OpenAPI schema of the service."""
    return JSONResponse(request.app.openapi())


@router.get(DOCS_URL)
def docs_page(request: Request, _reader: AuthReader) -> HTMLResponse:
    """Swagger UI over the OpenAPI schema."""
    page = get_swagger_ui_html(openapi_url=OPENAPI_URL, title=f"{request.app.title} · API")
    page.headers["Content-Security-Policy"] = docs_policy(page.body.decode())
    return page
