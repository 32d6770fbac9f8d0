"""Servers the tests start listen on loopback, each on a port free when it starts."""

import socket

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on loopback nobody listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
