"""The websocket protocol, version 1: what browsers send (:mod:`.inbound`), what the server
sends (:mod:`.outbound`) and what goes wrong (:mod:`.errors`). ``docs/protocol.md`` is its
prose; a unit test checks that both name the same messages.

``from signaling import protocol`` then ``protocol.Hello``, ``protocol.decode``,
``protocol.error`` ... work as they did when this was one module.
"""

from signaling.protocol.errors import ErrorCode, ProtocolError
from signaling.protocol.inbound import *  # noqa: F401,F403 (the browser's messages, by name)
from signaling.protocol.inbound import __all__ as _inbound_all
from signaling.protocol.outbound import ack, encode, error, welcome

__all__ = ["ErrorCode", "ProtocolError", "ack", "encode", "error", "welcome", *_inbound_all]
