"""A real Dovecot IMAP server on loopback for the tests, and a TCP proxy that counts (and can cut) UID FETCHes.

The server runs from its own configuration in a temporary folder (no system configuration, no auth penalty), a
passwd-file with plain passwords (``USERS`` users made at start, each test takes fresh ones),
maildirs in the folder, a free loopback port, no TLS. It runs as the current user;
as root, Dovecot's own unprivileged users (from the Debian package) serve logins and mail, since
Dovecot refuses root for those.
"""

import grp
import imaplib
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from tests.loopback import HOST, free_port

#: Users in the passwd-file, each with an empty mailbox until a test takes it.
USERS = 200
PASSWORD = "secret"
START_TIMEOUT_SECONDS = 15.0
#: A client's UID FETCH command: its tag, then the UID set.
UID_FETCH = re.compile(rb"^\S+ UID FETCH (\S+) ", re.IGNORECASE)

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = {host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = 0
first_valid_gid = 0
mail_uid = {mail_user}
mail_gid = {mail_group}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
  default_fields = home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
  }}
}}
"""


def dovecot_binary() -> str | None:
    """The ``dovecot`` server binary, if installed (Debian: ``dovecot-imapd``)."""
    return shutil.which("dovecot") or next(
        (path for path in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(path, os.X_OK)), None
    )


@dataclass
class Dovecot:
    """A running Dovecot: where it listens, and a passwd-file to add users to."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]
    host: str = HOST
    _users: Iterator[int] = field(default_factory=itertools.count)

    def new_user(self) -> str:
        """A user no test took yet (its mailbox is empty, its password ``PASSWORD``); its login."""
        number = next(self._users)
        if number >= USERS:
            raise RuntimeError(f"all {USERS} users of the test Dovecot are taken: raise USERS")
        return f"user{number}"

    @contextmanager
    def client(self, user: str, password: str = PASSWORD) -> Iterator[imaplib.IMAP4]:
        """A logged-in connection (to seed messages and recreate folders)."""
        connection = imaplib.IMAP4(self.host, self.port, timeout=10)
        connection.login(user, password)
        try:
            yield connection
        finally:
            connection.logout()

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _accounts() -> dict[str, str]:
    """Who runs what: the current user, or as root the unprivileged users Dovecot's package creates."""
    if os.geteuid() != 0:
        user, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
        login_user = user
    else:
        user, group, login_user = "dovecot", "dovecot", "dovenull"
    return {
        "internal_user": user,
        "internal_group": group,
        "login_user": login_user,
        "mail_user": user,
        "mail_group": group,
    }


@contextmanager
def running_dovecot(binary: str) -> Iterator[Dovecot]:
    """Start Dovecot in the foreground on a free loopback port; stop it and remove its folder after."""
    root = Path(tempfile.mkdtemp(prefix="dossier-dovecot-"))
    root.chmod(0o755)  # the login and mail users must reach the sockets and maildirs
    accounts = _accounts()
    for part in ("run", "state", "mail"):
        (root / part).mkdir()
    shutil.chown(root / "mail", accounts["mail_user"], accounts["mail_group"])
    (root / "passwd").write_text("".join(f"user{n}:{{PLAIN}}{PASSWORD}::::::\n" for n in range(USERS)))
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, host=HOST, port=port, **accounts))
    process = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    server = Dovecot(root, port, process)
    try:
        _wait_for_greeting(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


def _wait_for_greeting(server: Dovecot) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            output = server.process.stdout.read().decode(errors="replace") if server.process.stdout else ""
            raise RuntimeError(f"dovecot exited with {server.process.returncode}: {output}\n{server.log()}")
        with suppress(OSError), socket.create_connection((server.host, server.port), timeout=1) as probe:
            if probe.recv(64).startswith(b"* OK"):
                return
        time.sleep(0.1)
    raise RuntimeError(f"dovecot did not answer on port {server.port} within {START_TIMEOUT_SECONDS}s:\n{server.log()}")


def uid_set(text: bytes) -> list[int]:
    """The UIDs of an IMAP sequence set such as ``1,3:5``."""
    uids: list[int] = []
    for part in text.decode().split(","):
        low, _, high = part.partition(":")
        uids.extend(range(int(low), int(high or low) + 1))
    return uids


class FetchProxy:
    """A TCP proxy in front of an IMAP server that records the UIDs each UID FETCH asks for.

    With ``cut_at_fetch=n`` it closes the connection mid-answer to the n-th UID FETCH (1-based) once it
    forwarded ``cut_after_bytes`` of that answer: the client sees the server vanish mid-fetch.
    """

    def __init__(self, upstream_port: int, *, cut_at_fetch: int | None = None, cut_after_bytes: int = 200):
        self.fetched: list[int] = []
        self.fetches = 0
        self._upstream_port = upstream_port
        self._cut_at_fetch = cut_at_fetch
        self._cut_after_bytes = cut_after_bytes
        self._listener = socket.create_server((HOST, 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection((HOST, self._upstream_port))
            cutting = threading.Event()
            threading.Thread(target=self._client_to_server, args=(client, server, cutting), daemon=True).start()
            threading.Thread(target=self._server_to_client, args=(server, client, cutting), daemon=True).start()

    def _client_to_server(self, client: socket.socket, server: socket.socket, cutting: threading.Event) -> None:
        pending = b""
        while chunk := _receive(client):
            pending += chunk
            *lines, pending = pending.split(b"\r\n")
            for line in lines:
                if match := UID_FETCH.match(line):
                    with self._lock:
                        self.fetches += 1
                        self.fetched.extend(uid_set(match[1]))
                        if self.fetches == self._cut_at_fetch:
                            cutting.set()
            if not _send(server, chunk):
                break
        _close(client, server)

    def _server_to_client(self, server: socket.socket, client: socket.socket, cutting: threading.Event) -> None:
        budget = self._cut_after_bytes
        while chunk := _receive(server):
            if cutting.is_set():
                _send(client, chunk[:budget])
                budget -= len(chunk)
                if budget <= 0:
                    break
            elif not _send(client, chunk):
                break
        _close(client, server)


def _receive(connection: socket.socket) -> bytes:
    try:
        return connection.recv(65536)
    except OSError:
        return b""


def _send(connection: socket.socket, data: bytes) -> bool:
    try:
        connection.sendall(data)
    except OSError:
        return False
    return True


def _close(*connections: socket.socket) -> None:
    for connection in connections:
        with suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)
        connection.close()
