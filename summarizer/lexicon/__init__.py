"""Lexicons and patterns (data only) that the grounded engine compiles once at import."""
