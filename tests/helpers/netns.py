"""A network namespace of its own for voice tests (aioice never uses 127.0.0.1).

:func:`network_namespace` makes a namespace with loopback up and a veth pair
whose two ends, both inside it, carry 10.213.0.1 and 10.213.0.2. While the
``with`` block runs, the *calling thread* is inside the namespace
(``setns(2)``), so every process it starts (an otodesk server, Playwright's
driver and its Chromium) and every socket it opens lives there; the thread
goes back to its own namespace and the namespace is deleted afterwards, even
on failure. Nothing is ever sent to this machine's own addresses.

Needs root; :func:`require_netns` skips (or fails, under ``CI=true``) otherwise.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import subprocess
from collections.abc import Iterator

import pytest

__all__ = ["network_namespace", "side_namespace", "cut", "require_netns", "SERVER_ADDRESS", "PEER_ADDRESS",
           "SIDE_ADDRESS", "VOICE_CANDIDATES", "VOICE_ENV"]

SERVER_ADDRESS = "10.213.0.1"
PEER_ADDRESS = "10.213.0.2"
CLONE_NEWNET = 0x40000000


def require_netns() -> None:
    reason = None
    if os.geteuid() != 0:
        reason = "voice tests need root to make a network namespace (aioice never uses 127.0.0.1)"
    elif not os.path.exists("/usr/sbin/ip") and not os.path.exists("/sbin/ip") and not os.path.exists("/bin/ip"):
        reason = "voice tests need iproute2's `ip` to make a network namespace"
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: voice tests must run)")
        pytest.skip(reason)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns failed: {os.strerror(errno)}")


@contextlib.contextmanager
def network_namespace() -> Iterator[str]:
    """Enter a fresh namespace (this thread); yields its name."""
    name = f"otv-{os.getpid()}-{secrets.token_hex(3)}"
    _ip("netns", "add", name)
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        _ip("-n", name, "link", "set", "lo", "up")
        _ip("-n", name, "link", "add", "va", "type", "veth", "peer", "name", "vb")
        _ip("-n", name, "addr", "add", f"{SERVER_ADDRESS}/24", "dev", "va")
        _ip("-n", name, "addr", "add", f"{PEER_ADDRESS}/24", "dev", "vb")
        _ip("-n", name, "link", "set", "va", "up")
        _ip("-n", name, "link", "set", "vb", "up")
        target = os.open(f"/run/netns/{name}", os.O_RDONLY)
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            yield name
        finally:
            _setns(home)
    finally:
        os.close(home)
        with contextlib.suppress(Exception):
            _ip("netns", "delete", name)


SIDE_ADDRESS = "10.214.0.2"  # a browser in a side namespace (reaches the server through a veth pair)
_SIDE_GATEWAY = "10.214.0.1"
#: The anchor refuses private and own-address ICE candidates unless told: here every peer
#: is in these private networks, and those in the namespace share the server's addresses.
VOICE_CANDIDATES = "10.213.0.0/24,10.214.0.0/24,self"
VOICE_ENV = {"OTODESK_VOICE_PRIVATE_CANDIDATES": VOICE_CANDIDATES}


@contextlib.contextmanager
def side_namespace(parent: str) -> Iterator[str]:
    """A second namespace joined to ``parent`` by a veth pair of its own; yields its name.

    Run a program there with ``ip netns exec NAME program`` (e.g. a Chromium
    wrapper); :func:`cut` then drops its traffic, and only its, as a network
    that goes away would.
    """
    name = f"{parent}-s"
    _ip("netns", "add", name)
    try:
        _ip("-n", name, "link", "set", "lo", "up")
        _ip("-n", parent, "link", "add", "vc", "type", "veth", "peer", "name", "vd", "netns", name)
        _ip("-n", parent, "addr", "add", f"{_SIDE_GATEWAY}/24", "dev", "vc")
        _ip("-n", name, "addr", "add", f"{SIDE_ADDRESS}/24", "dev", "vd")
        _ip("-n", parent, "link", "set", "vc", "up")
        _ip("-n", name, "link", "set", "vd", "up")
        _ip("-n", name, "route", "add", "default", "via", _SIDE_GATEWAY)
        yield name
    finally:
        with contextlib.suppress(Exception):
            _ip("netns", "delete", name)


def cut(parent: str, side: str, down: bool) -> None:
    """Drop (``down``) or restore every packet between ``side`` and ``parent``, both ways.

    A FIFO of length zero on each end (netem isn't in every kernel): the link
    stays up and packets just vanish (no error a program could notice at once),
    as on a Wi-Fi that goes away.
    """
    for namespace, device in ((parent, "vc"), (side, "vd")):
        if down:
            subprocess.run(["ip", "netns", "exec", namespace, "tc", "qdisc", "replace", "dev", device, "root",
                            "pfifo", "limit", "0"], check=True, capture_output=True, timeout=10)
        else:
            subprocess.run(["ip", "netns", "exec", namespace, "tc", "qdisc", "del", "dev", device, "root"],
                           check=False, capture_output=True, timeout=10)
