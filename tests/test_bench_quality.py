"""bench/quality.py's engine rows: model time, recall per model second, the served openai endpoint's settings,
and the llama.cpp server's lifetime (exercised with a stand-in HTTP server, no model)."""

import argparse
import os
import sys
import urllib.request
from pathlib import Path

import pytest
from langchain_core.language_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.prompts import ChatPromptTemplate

from bench.llama_server import free_port, serving
from bench.model_time import timing_model_calls
from bench.quality import (
    DEFAULT_SERVER_MODEL,
    _case_means,
    case_dirs,
    openai_server_model,
    served_openai_settings,
    settings_overridden,
)
from dossier.settings import get_settings
from summarizer.service import FORMATS


def chain(sleep: float):
    model = FakeListChatModel(responses=["one", "two", "three"], sleep=sleep)
    return ChatPromptTemplate.from_messages([("human", "{text}")]) | model.bind(temperature=0)


def test_model_time_counts_only_the_calls_inside_the_block() -> None:
    slow = chain(0.05)
    slow.invoke({"text": "before"})
    with timing_model_calls() as timer:
        slow.invoke({"text": "a"})
        slow.invoke({"text": "b"})
    slow.invoke({"text": "after"})
    assert timer.calls == 2
    assert 0.1 <= timer.seconds < 1.0


def test_model_tokens_are_the_ones_the_answers_report() -> None:
    answers = [
        AIMessage("first", usage_metadata={"input_tokens": 300, "output_tokens": 40, "total_tokens": 340}),
        AIMessage("second", usage_metadata={"input_tokens": 200, "output_tokens": 10, "total_tokens": 210}),
        AIMessage("unreported"),
    ]
    model = GenericFakeChatModel(messages=iter(answers))
    with timing_model_calls() as calls:
        for text in ("a", "b", "c"):
            model.invoke(text)
    assert (calls.calls, calls.prompt_tokens, calls.completion_tokens) == (3, 500, 50)


def test_model_time_is_zero_without_model_calls() -> None:
    with timing_model_calls() as timer:
        sum(range(1000))
    assert (timer.calls, timer.seconds) == (0, 0.0)


def case_result(structured: float, model_seconds: float) -> dict:
    score = {"fact_recall": structured, "unsupported_numbers": [], "forbidden_hits": [], "words": 10}
    scores = dict.fromkeys(FORMATS, score)
    return {
        "seconds": model_seconds + 1.0,
        "model_seconds": model_seconds,
        "model_prompt_tokens": 100 if model_seconds else 0,
        "model_completion_tokens": 20 if model_seconds else 0,
        "fallbacks": 0,
        "failed": [],
        "formats": scores,
    }


def test_recall_per_model_second_is_structured_recall_over_model_seconds_per_client() -> None:
    client = _case_means([case_result(0.6, 10.0), case_result(0.8, 30.0)])["client"]
    assert client["model_seconds"] == pytest.approx(20.0)
    assert client["structured_recall_per_model_second"] == pytest.approx(0.7 / 20.0)
    assert client["tokens"] == pytest.approx(120)


def test_an_engine_without_model_time_has_no_recall_per_model_second() -> None:
    assert _case_means([case_result(0.5, 0.0)])["client"]["structured_recall_per_model_second"] is None


def options(**values: str | None) -> argparse.Namespace:
    return argparse.Namespace(**{"openai_server": None, "llamacpp_model": None, **values})


def test_the_openai_rows_are_served_by_the_small_model_unless_an_endpoint_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DOSSIER_OPENAI_BASE_URL", raising=False)
    get_settings.cache_clear()
    assert openai_server_model("openai", options()) == DEFAULT_SERVER_MODEL
    assert openai_server_model("grounded", options()) is None
    assert openai_server_model("hybrid", options(openai_server="/models/x.gguf")) is None
    monkeypatch.setenv("DOSSIER_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    get_settings.cache_clear()
    assert openai_server_model("openai", options()) is None
    assert openai_server_model("openai", options(openai_server="/models/x.gguf")) == Path("/models/x.gguf")
    get_settings.cache_clear()


def test_served_settings_apply_for_the_block_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOSSIER_OPENAI_MODEL", "configured-model")
    get_settings.cache_clear()
    with settings_overridden(served_openai_settings("http://127.0.0.1:5000/v1", 4096)):
        served = get_settings()
        assert (served.openai_base_url, served.openai_context_tokens) == ("http://127.0.0.1:5000/v1", 4096)
        assert (served.openai_response_format, served.openai_legacy_max_tokens) == ("json_object", True)
        assert served.openai_api_key is not None
    assert get_settings().openai_model == "configured-model"
    assert "DOSSIER_OPENAI_CONTEXT_TOKENS" not in os.environ
    get_settings.cache_clear()


def stand_in_server(port: int) -> list[str]:
    return [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


def test_the_server_answers_in_the_block_and_is_stopped_after_an_error(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with (
        pytest.raises(KeyboardInterrupt),
        serving(stand_in_server(port), url, log=tmp_path / "server.log", timeout=20),
    ):
        assert answers(url)
        raise KeyboardInterrupt
    assert not answers(url)


def test_a_server_that_exits_at_start_is_a_clear_error(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import sys; print('bad model file'); sys.exit(3)"]
    log = tmp_path / "server.log"
    with (
        pytest.raises(RuntimeError, match=rf"exited with 3 .*{log.name}"),
        serving(command, f"http://127.0.0.1:{free_port()}/", log=log, timeout=20),
    ):
        pytest.fail("the block must not run")
    assert "bad model file" in log.read_text()


def test_cases_can_be_picked_by_name(tmp_path: Path) -> None:
    for name in ("small_case", "large_case", "no_gold"):
        (tmp_path / name).mkdir()
    for name in ("small_case", "large_case"):
        (tmp_path / name / "gold.json").write_text("{}")
    assert [case.name for case in case_dirs(tmp_path)] == ["large_case", "small_case"]
    assert [case.name for case in case_dirs(tmp_path, ["small_case"])] == ["small_case"]
    with pytest.raises(SystemExit, match=r"no such case .*missing_case"):
        case_dirs(tmp_path, ["missing_case"])
