"""The errors of the transcription package."""


class TranscriptionError(Exception):
    """Base class: the message is one clear line."""


class ModelError(TranscriptionError):
    """A model name or path that cannot be resolved, assembled or loaded."""


class AudioError(TranscriptionError):
    """Audio that cannot be transcribed (corrupt, empty, unsupported, silent): the message is the reason."""
