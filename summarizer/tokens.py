"""Token estimates for engines without a tokenizer at hand."""


def estimate_tokens(text: str) -> int:
    """A conservative token count: ~4 characters per token for ASCII, ~2 for other scripts.

    Non-English text costs more tokens per character with every BPE tokenizer; overestimating keeps
    chunks inside the real context window. Non-ASCII characters are counted from the UTF-8 length
    (C speed): Cyrillic and Polish letters take 2 bytes, wider scripts count more.
    """
    extra_bytes = len(text.encode("utf-8", "surrogatepass")) - len(text)
    ascii_chars = len(text) - extra_bytes if extra_bytes <= len(text) else 0
    return (max(ascii_chars, 0) + 3) // 4 + (extra_bytes + 1) // 2 + 1
