"""Packaged GGUF models: joined from their part packages once, verified, refused when wrong or incomplete."""

import hashlib
import itertools
import tomllib
from pathlib import Path

import pytest

from dossier.engines import llamacpp_options
from dossier.settings import Settings
from summarizer.engines import EngineError
from summarizer.engines import packaged as packaged_module
from summarizer.engines.options import LlamaCppOptions
from summarizer.engines.packaged import (
    PACKAGED_MODELS,
    QWEN_CODER_0_5B,
    QWEN_CODER_1_5B,
    PackagedModel,
    assemble,
    packaged_model,
    part_files,
)

ROOT = Path(__file__).resolve().parent.parent
_prefixes = itertools.count()


def fake_model(
    site: Path,
    monkeypatch: pytest.MonkeyPatch,
    parts: list[bytes],
    *,
    installed: set[int] | None = None,
    checksum: str | None = None,
) -> PackagedModel:
    """A packaged model whose part packages (all, or the ``installed`` numbers) are importable from ``site``."""
    prefix = f"dossier_fake_model_{next(_prefixes)}-part"
    for number, data in enumerate(parts, start=1):
        if installed is None or number in installed:
            package = site / f"{prefix}{number}".replace("-", "_")
            (package / "data").mkdir(parents=True)
            (package / "__init__.py").write_text("")
            (package / "data" / f"part{number:02d}.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(site))
    joined = b"".join(parts)
    return PackagedModel(
        f"fake-{prefix}", prefix, len(parts), "1.0", len(joined), checksum or hashlib.sha256(joined).hexdigest(), "test"
    )


PARTS = [b"GGUF" + bytes(range(256)) * 3, b"second part " * 50, b"\x00\xff" * 700]


def test_parts_are_joined_in_order_once_and_a_verified_copy_is_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = fake_model(tmp_path / "site", monkeypatch, PARTS)
    cache = tmp_path / "cache"
    path = assemble(model, cache)
    assert path.read_bytes() == b"".join(PARTS)
    assert path.name == f"{model.name}-{model.sha256[:12]}.gguf"
    assert [p.name for p in cache.iterdir()] == [path.name]  # no partial file left behind
    monkeypatch.setattr(packaged_module, "part_files", lambda model: pytest.fail("re-assembled a verified copy"))
    assert assemble(model, cache) == path


def test_a_truncated_copy_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = fake_model(tmp_path / "site", monkeypatch, PARTS)
    path = assemble(model, tmp_path / "cache")
    with path.open("r+b") as damaged:
        damaged.truncate(100)
    assert assemble(model, tmp_path / "cache").read_bytes() == b"".join(PARTS)


def test_a_wrong_checksum_is_refused_and_nothing_is_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = fake_model(tmp_path / "site", monkeypatch, PARTS, checksum="0" * 64)
    with pytest.raises(
        EngineError,
        match=r"checksum .*expected 0000000000000000…: reinstall them: pip install "
        r"'dossier\[test\]'",
    ):
        assemble(model, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_missing_part_is_named_with_the_pip_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = fake_model(tmp_path / "site", monkeypatch, PARTS, installed={1, 3})
    with pytest.raises(EngineError) as raised:
        assemble(model, tmp_path / "cache")
    message = str(raised.value)
    assert f"({model.packages[1]} missing)" in message
    assert (
        f"pip install 'dossier[test]' (the packages {model.parts_prefix}1 … {model.parts_prefix}3, version 1.0)"
        in message
    )
    assert not (tmp_path / "cache").exists()


def test_parts_of_the_wrong_size_are_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = fake_model(tmp_path / "site", monkeypatch, PARTS)._replace(size=10)
    with pytest.raises(EngineError, match=f"add up to {sum(map(len, PARTS)):,} bytes, expected 10"):
        assemble(model, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_the_llamacpp_engine_assembles_the_configured_packaged_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("llama_cpp")
    from summarizer.engines.llamacpp import model_path

    model = fake_model(tmp_path / "site", monkeypatch, PARTS)
    monkeypatch.setitem(PACKAGED_MODELS, model.name, model)
    path = model_path(LlamaCppOptions(packaged=model.name, cache_dir=tmp_path / "cache"))
    assert Path(path).read_bytes() == b"".join(PARTS)
    with pytest.raises(EngineError, match=r"unknown packaged model 'gemma'; expected one of: qwen2\.5-coder-1\.5b"):
        model_path(LlamaCppOptions(packaged="gemma", cache_dir=tmp_path / "cache"))


def test_the_default_is_the_1_5b_instruct_model_and_settings_choose_another() -> None:
    assert LlamaCppOptions().packaged == QWEN_CODER_1_5B.name == Settings(_env_file=None).llamacpp_packaged
    chosen = Settings(_env_file=None, llamacpp_packaged=QWEN_CODER_0_5B.name)
    assert llamacpp_options(chosen).packaged == QWEN_CODER_0_5B.name
    assert packaged_model(QWEN_CODER_0_5B.name) is QWEN_CODER_0_5B


def test_the_extras_install_exactly_the_packaged_parts() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for model in (QWEN_CODER_1_5B, QWEN_CODER_0_5B):
        pins = [f"{model.parts_prefix}{number}=={model.version}" for number in range(1, model.part_count + 1)]
        assert [pin for pin in extras[model.extra] if pin.startswith(model.parts_prefix)] == pins
    lock = (ROOT / "requirements-dev.lock").read_text()
    assert f"\n{QWEN_CODER_0_5B.parts_prefix}1=={QWEN_CODER_0_5B.version}\n" in lock
    assert QWEN_CODER_1_5B.parts_prefix not in lock and "gemma" not in lock  # 1.1 GB: only with --model


def test_the_installed_test_model_parts_add_up_to_the_model() -> None:
    """The real part packages' layout (``data/partNN.bin``) and sizes, without reading 491 MB."""
    try:
        parts = part_files(QWEN_CODER_0_5B)
    except EngineError as error:
        pytest.skip(str(error))
    assert len(parts) == QWEN_CODER_0_5B.part_count
