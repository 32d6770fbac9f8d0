"""llama-cpp-python's OpenAI-compatible server for a benchmark run: started on a free loopback port, waited
for until ``/v1/models`` answers, and stopped when the run ends (also on an error or Ctrl-C).

    with llama_server(Path("model.gguf"), n_ctx=4096, log=Path("bench/out/llama-server.log")) as base_url:
        ...  # point the openai engine at base_url, model SERVED_MODEL
"""

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

#: The name the server answers to (``--model_alias``): what the openai engine asks for and is priced by.
SERVED_MODEL = "local-gguf"
START_TIMEOUT_SECONDS = 180.0
STOP_TIMEOUT_SECONDS = 15.0


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_command(gguf: Path, *, port: int, n_ctx: int, threads: int) -> list[str]:
    """The command line of llama-cpp-python's server for ``gguf`` on ``127.0.0.1:port``."""
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--model_alias",
        SERVED_MODEL,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        str(threads),
        "--n_threads_batch",
        str(threads),
        "--verbose",
        "false",
    ]


def wait_until_answering(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Return once ``url`` answers; raise if ``process`` exits first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process``, killing it if it does not exit in time."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serving(
    command: Sequence[str], probe_url: str, *, log: Path, timeout: float = START_TIMEOUT_SECONDS
) -> Iterator[None]:
    """Run ``command`` (output to ``log``) until the block ends, once ``probe_url`` answers."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        try:
            wait_until_answering(probe_url, process, timeout)
        except (RuntimeError, TimeoutError) as error:
            raise RuntimeError(f"{error}; its output is in {log}") from error
        yield
    finally:
        stop(process)


@contextmanager
def llama_server(gguf: Path, *, n_ctx: int, log: Path, threads: int = 2) -> Iterator[str]:
    """The base URL (``http://127.0.0.1:PORT/v1``) of a llama-cpp-python server for ``gguf``, for the block."""
    if not gguf.is_file():
        raise FileNotFoundError(f"no GGUF model at {gguf}")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    with serving(server_command(gguf, port=port, n_ctx=n_ctx, threads=threads), f"{base_url}/models", log=log):
        yield base_url
