#!/usr/bin/env python
"""Brief service benchmark: cached brief latency and throughput under ``wrk`` on loopback.

    python bench/serve.py [--rate 200] [--duration 20] [--connections 20] [--workers 1]

1. Generates the multi-channel sample in a scratch folder, imports it into a fresh SQLite file,
   summarizes every client (grounded engine) and creates a user with an API token.
2. Starts the app as ``dossier serve`` does (uvicorn, ``--workers`` processes) on a free
   127.0.0.1 port and warms each endpoint up with 50 sequential requests (median latency noted).
3. Drives two endpoints with Debian's ``wrk`` (4.x, closed loop), each for ``--duration`` seconds:
   ``/api/clients/{id}`` (brief by client id) and ``/api/incoming-call?phone=…`` (phone lookup).
   Each is run **paced** and **flat out** (no pause, for the capacity). Paced, every connection
   pauses before each request (a Lua ``delay()``) on average ``connections / rate`` seconds less
   the warm-up's median latency, drawn uniformly from 0..2x that mean so the connections do not
   fire in step: the offered load is about ``--rate`` requests/s. Every request is authenticated,
   scoped and audited, as in production.
4. Prints p50/p90/p99 latency, achieved requests/s and the server's CPU milliseconds per request
   (from ``/proc``: what a request costs whatever else runs on the machine) per run, and writes
   ``bench/out/serve.json``. The goal is p99 <= 20 ms at 200 requests/s on 2 cores (wrk shares
   those cores with the server). The load average is printed too: on a shared machine other
   processes lengthen the tail.

Traffic never leaves 127.0.0.1; every run is bounded by ``--duration`` and the server is stopped at
the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
# ``python bench/serve.py`` puts bench/ first on sys.path, where bench/ingest.py shadows the
# ``ingest`` package; look modules up from the repository root instead.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.markdown import Markdown  # noqa: E402

from dossier.demo.sample import generate_sample  # noqa: E402
from dossier.engines import summarize  # noqa: E402
from ingest.pipeline import import_paths  # noqa: E402
from storage import access, repository  # noqa: E402
from storage.db import get_engine, session_scope, upgrade_schema  # noqa: E402

OUT_DIR = BENCH_DIR / "out"
BENCH_CLIENT = "Alfa Group"
#: A Lua script for wrk: the token header, a pause before each request (uniform in 0..2x the mean, so the
#: connections drift apart instead of firing in bursts), JSON results on stdout.
WRK_SCRIPT = """
wrk.headers["Authorization"] = "Bearer {token}"
math.randomseed(os.time())
function delay() return math.random(0, 2 * {delay_ms}) end
function done(summary, latency, requests)
  io.write(string.format('{{"requests": %d, "duration_us": %d, "non_2xx": %d, "errors": %d, '
    .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}}\\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True, slots=True)
class Run:
    """One wrk run and what it measured."""

    endpoint: str
    mode: str  # paced or flat out
    connections: int
    requests: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    failed: int
    server_cpu_ms_per_request: float  # the server's CPU time per request: what the rate costs, load-independent


def prepare(work: Path) -> tuple[str, str, int, str]:
    """A summarized sample in a fresh database: (database URL, token, client id, a client phone)."""
    url = f"sqlite:///{work / 'serve.db'}"
    os.environ["DOSSIER_DATABASE_URL"] = url
    upgrade_schema(url)
    sample = generate_sample(work / "sample")
    with session_scope(url) as session:
        repository.upsert_user(session, login="bench", name="Bench Reader", team="Bench")
        token = access.create_token(session, "bench", "bench/serve.py")
    import_paths([work / "sample"], database_url=url)
    summarize(all_clients=True, database_url=url)
    with session_scope(url) as session:
        client_id = repository.find_client(session, BENCH_CLIENT).id
    phone = next(c.value for c in sample.client(BENCH_CLIENT).contacts if c.kind == "phone")
    get_engine(url).dispose()
    return url, token, client_id, phone


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(url: str, port: int, workers: int) -> subprocess.Popen:
    """The app under uvicorn on loopback, as ``dossier serve`` runs it; returns once it answers."""
    env = {**os.environ, "DOSSIER_DATABASE_URL": url}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "dossier.web:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=1).close()
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"the server exited with status {server.returncode}") from None
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not answer within 30 s")


def warm(base: str, path: str, token: str, requests: int = 50) -> float:
    """Check the endpoint answers a summary, warm it up, and return its median latency in ms."""
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    latencies = []
    for _ in range(requests):
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.load(response)
        latencies.append(1000 * (time.perf_counter() - started))
        if response.status != 200 or "content" not in body:
            raise SystemExit(f"{path} answered {response.status}: {body}")
    return statistics.median(latencies)


def run_wrk(base: str, path: str, token: str, *, connections: int, seconds: int, delay_ms: int, scratch: Path) -> dict:
    script = scratch / f"wrk-{delay_ms}.lua"
    script.write_text(WRK_SCRIPT.format(token=token, delay_ms=delay_ms), encoding="utf-8")
    result = subprocess.run(
        [
            "wrk",
            "-t",
            "1",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            base + path,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def server_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by the server process and its worker processes (Linux ``/proc``)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    ticks = 0
    for process in [str(pid), *children]:
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime and stime, fields 14 and 15 of proc(5)
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(endpoint: str, mode: str, connections: int, raw: dict, cpu_seconds: float) -> Run:
    seconds = raw["duration_us"] / 1e6
    return Run(
        endpoint,
        mode,
        connections,
        raw["requests"],
        round(seconds, 1),
        round(raw["requests"] / seconds, 1),
        raw["p50_us"] / 1000,
        raw["p90_us"] / 1000,
        raw["p99_us"] / 1000,
        raw["max_us"] / 1000,
        raw["non_2xx"] + raw["errors"],
        round(1000 * cpu_seconds / max(raw["requests"], 1), 2),
    )


def markdown_table(runs: list[Run]) -> str:
    header = (
        "| endpoint | load | connections | requests/s | p50 ms | p90 ms | p99 ms | max ms | failed "
        "| server CPU ms/request |"
    )
    rows = [header, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    rows += [
        f"| `{r.endpoint}` | {r.mode} | {r.connections} | {r.requests_per_s:.0f} | {r.p50_ms:.1f} | "
        f"{r.p90_ms:.1f} | {r.p99_ms:.1f} | {r.max_ms:.1f} | {r.failed} | {r.server_cpu_ms_per_request:.2f} |"
        for r in runs
    ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=200, help="offered requests/s of the paced runs")
    parser.add_argument("--duration", type=int, default=20, help="seconds per run")
    parser.add_argument("--connections", type=int, default=20, help="wrk connections")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    console = Console()
    with tempfile.TemporaryDirectory(prefix="dossier-serve-") as scratch_dir:
        scratch = Path(scratch_dir)
        console.print("preparing a summarized sample…")
        url, token, client_id, phone = prepare(scratch)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(url, port, args.workers)
        try:
            endpoints = {
                "/api/clients/{id}": f"/api/clients/{client_id}",
                "/api/incoming-call?phone=…": f"/api/incoming-call?phone={phone.replace('+', '%2B')}",
            }
            runs = []
            for label, path in endpoints.items():
                # a connection sends one request per (latency + delay): take the latency off the pause
                latency_ms = warm(base, path, token)
                paced_delay = max(0, round(1000 * args.connections / args.rate - latency_ms))
                for mode, delay_ms in ((f"paced {args.rate}/s", paced_delay), ("flat out", 0)):
                    console.print(f"wrk {label} {mode} for {args.duration} s…")
                    cpu_before = server_cpu_seconds(server.pid)
                    raw = run_wrk(
                        base,
                        path,
                        token,
                        connections=args.connections,
                        seconds=args.duration,
                        delay_ms=delay_ms,
                        scratch=scratch,
                    )
                    cpu_seconds = server_cpu_seconds(server.pid) - cpu_before
                    runs.append(measure(label, mode, args.connections, raw, cpu_seconds))
        finally:
            server.terminate()
            server.wait(timeout=30)
    console.print(Markdown(markdown_table(runs)))
    console.print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other processes share them)")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    report = {
        "cpus": os.cpu_count(),
        "workers": args.workers,
        "rate": args.rate,
        "duration_s": args.duration,
        "load_average": os.getloadavg(),
        "runs": [asdict(r) for r in runs],
        "markdown": markdown_table(runs),
    }
    (OUT_DIR / "serve.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    console.print(f"written {OUT_DIR / 'serve.json'}")


if __name__ == "__main__":
    main()
