"""The prompt and label files (``*.md``, ``render/*.toml``), shipped as package data.

Read them with ``importlib.resources.files("prompts")``: that works from a checkout and from an installed wheel.
"""
