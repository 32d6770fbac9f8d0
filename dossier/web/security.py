"""Security headers on every answer of the brief service: one ASGI middleware.

Pages load their style sheet from ``/static`` and run no script at all, so the Content-Security-Policy
allows nothing inline. Every answer except the static files carries client data or may, so none is
stored by browsers or proxies. A route that needs another policy (the API docs page) sets its own
``Content-Security-Policy``, which is kept.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC_PREFIX = "/static"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
NO_STORE = {"Cache-Control": "no-store"}


class SecurityHeaders:
    """Adds ``SECURITY_HEADERS`` to every HTTP answer, and ``Cache-Control: no-store`` outside ``/static``."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = SECURITY_HEADERS if scope["path"].startswith(f"{STATIC_PREFIX}/") else SECURITY_HEADERS | NO_STORE

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in added.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
