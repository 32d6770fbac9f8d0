"""Addresses in the web app that what users receive links to (a citation's message page)."""


def message_url(base_url: str, interaction_id: int, at_seconds: float | None = None) -> str:
    """The address of an interaction's message page in the web app at ``base_url``; for a call, at the second
    ``at_seconds`` of its recording."""
    url = f"{base_url.rstrip('/')}/messages/{interaction_id}"
    return f"{url}?at={at_seconds:g}" if at_seconds is not None else url
