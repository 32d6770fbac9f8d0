"""A real Radicale CalDAV server on loopback for the tests, run from its own configuration in a temporary folder.

htpasswd authentication with plain passwords (``USERS`` users, each test takes a fresh one), storage in the
folder, a free loopback port, no TLS; started as a subprocess of the test session and stopped after.
"""

import itertools
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from caldav.collection import Calendar
from caldav.davclient import DAVClient

from tests.loopback import HOST, free_port

USERS = 50
PASSWORD = "secret"
START_TIMEOUT_SECONDS = 20.0

CONFIG = """\
[server]
hosts = {host}:{port}
[auth]
type = htpasswd
htpasswd_filename = {root}/htpasswd
htpasswd_encryption = plain
delay = 0
[rights]
type = owner_only
[storage]
filesystem_folder = {root}/collections
[logging]
level = warning
"""


@dataclass
class Radicale:
    """A running Radicale: where it listens, and users to take."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]
    _users: Iterator[int] = field(default_factory=itertools.count)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def new_user(self) -> str:
        """A user no test took yet (no calendars, password ``PASSWORD``); its login."""
        number = next(self._users)
        if number >= USERS:
            raise RuntimeError(f"all {USERS} users of the test Radicale are taken: raise USERS")
        return f"user{number}"

    def new_calendar(self, user: str, name: str = "Work") -> Calendar:
        """A new calendar collection of ``user``, made through the caldav client."""
        client = DAVClient(url=self.url, username=user, password=PASSWORD)
        return client.principal().make_calendar(name=name)


def _wait_until_up(server: Radicale) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            log = (server.root / "radicale.log").read_text(errors="replace")
            raise RuntimeError(f"radicale exited with {server.process.returncode}: {log}")
        try:
            with urllib.request.urlopen(server.url + ".web/", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"radicale did not answer on port {server.port} within {START_TIMEOUT_SECONDS} s")


@contextmanager
def running_radicale() -> Iterator[Radicale]:
    """Radicale on a free loopback port while the block runs; stopped (and its folder removed) after."""
    with tempfile.TemporaryDirectory(prefix="dossier-radicale-") as folder:
        root = Path(folder)
        (root / "htpasswd").write_text("".join(f"user{n}:{PASSWORD}\n" for n in range(USERS)))
        port = free_port()
        (root / "config").write_text(CONFIG.format(host=HOST, port=port, root=root))
        with (root / "radicale.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "radicale", "--config", str(root / "config")], stdout=log, stderr=log
            )
            server = Radicale(root, port, process)
            try:
                _wait_until_up(server)
                yield server
            finally:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
