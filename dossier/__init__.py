"""Dossier: customer history summarization engine (CLI, settings, sample data)."""
