"""RTP/RTCP port pairs for phone calls, held from the SDP that names them to the bind.

aiortp's ``PortAllocator`` test-binds a pair and lets it go at once, always from the bottom of
the range: the pair an INVITE offers stays unbound while the phone rings, and two processes on
one machine (``otodesk serve --workers N``, or the servers of a test run) pick the same lowest
pair, so the second to bind fails with "Address already in use" as the call is answered. Here
a pair is picked from a random place in the range and held (both sockets bound) until the
call's RTP session binds it (:meth:`RtpPorts.take`), or the call ends (:meth:`RtpPorts.release`).
"""

from __future__ import annotations

import random
import socket

__all__ = ["RtpPorts"]


class RtpPorts:
    def __init__(self, port_range: tuple[int, int], *, host: str = ""):
        low, high = port_range
        self.evens = range(low + low % 2, high - 1, 2)  # (even RTP, odd RTCP) pairs inside the range
        self.host = host
        self._held: dict[int, tuple[socket.socket, socket.socket]] = {}
        self._taken: set[int] = set()

    def allocate(self) -> int:
        """A free pair's RTP port, held bound; RuntimeError when the range has none."""
        start = random.randrange(len(self.evens)) if self.evens else 0
        for i in range(len(self.evens)):
            port = self.evens[(start + i) % len(self.evens)]
            if port in self._held or port in self._taken:
                continue
            pair = []
            try:
                for number in (port, port + 1):
                    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    pair.append(sock)
                    sock.bind((self.host, number))
            except OSError:  # another program (or process) has one of the two
                for sock in pair:
                    sock.close()
                continue
            self._held[port] = (pair[0], pair[1])
            return port
        raise RuntimeError(f"no free RTP port pair in {self.evens.start}-{self.evens.stop + 1}")

    def take(self, port: int) -> None:
        """Let the pair go for the call's own RTP session to bind now (it stays ours)."""
        for sock in self._held.pop(port, ()):
            sock.close()
        self._taken.add(port)

    def release(self, port: int) -> None:
        """The call is over: the pair may be picked again."""
        for sock in self._held.pop(port, ()):
            sock.close()
        self._taken.discard(port)
