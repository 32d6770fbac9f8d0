"""Token estimates for engines without a tokenizer at hand."""


def estimate_tokens(text: str) -> int:
    """A conservative token count: ~4 characters per token for ASCII, ~2 for other scripts.

    Non-English text costs more tokens per character with every BPE tokenizer; overestimating keeps
    chunks inside the real context window.
    """
    ascii_chars = sum(1 for ch in text if ch.isascii())
    return (ascii_chars + 3) // 4 + (len(text) - ascii_chars + 1) // 2 + 1
