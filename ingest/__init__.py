"""Ingest: parse exported history (mail, chats, CRM CSVs) and store it against the right client."""
