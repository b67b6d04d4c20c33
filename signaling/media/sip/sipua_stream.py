"""The trunk over TCP or TLS: its one connection to the proxy, kept up, and registration on it.

:func:`open_transport` builds the :class:`~signaling.media.sip.transport.StreamTransport`
a :class:`~signaling.media.sip.sipua.SipuaTrunk` uses when its config says
tcp or tls (TLS: the CA file or the system's, the proxy's name checked, or
nothing checked in a lab). Each new connection moves what we advertise in
Via and Contact to its local port (:func:`connected`).

A registration lives on its connection (the proxy sends our calls down it):
when the proxy drops it, the trunk shows ``registering`` with the reason,
and :data:`RECONNECT` seconds later connects again and REGISTERs afresh
(:func:`reconnect`); a connection that can't be made (refused, a certificate
not trusted) is a ``failed`` registration with those words, tried again
every ``config.register_retry`` seconds as for UDP.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from signaling.media.sip.transport import StreamTransport, tls_context
from signaling.media.sip.trunk import Registration

if TYPE_CHECKING:
    from signaling.media.sip.sipua import SipuaTrunk

__all__ = ["open_transport", "connected", "connection_lost", "reconnect", "RECONNECT"]

log = logging.getLogger(__name__)

RECONNECT = 1.0  # seconds after the proxy drops the connection before we connect and REGISTER again


def open_transport(trunk: "SipuaTrunk") -> StreamTransport:
    config = trunk.config
    context = None
    if config.transport == "tls":
        context = tls_context(ca_file=config.tls_ca_file, insecure=config.tls_insecure_no_verify)
    transport = StreamTransport(trunk.proxy_address, server_name=config.proxy[0], tls=context,
                                insecure=config.tls_insecure_no_verify, local_host=trunk.bind_host)
    transport.on_lost = lambda reason: connection_lost(trunk, reason)
    transport.on_connected = lambda: connected(trunk)
    return transport


def connected(trunk: "SipuaTrunk") -> None:
    """A new connection: Via and Contact name its local port from now on."""
    if trunk._uac is not None:
        trunk._uac.advertised_addr = (trunk.address, trunk._transport.bound[1])
        trunk._uas.advertised_addr = trunk._uac.advertised_addr


def connection_lost(trunk: "SipuaTrunk", reason: str) -> None:
    if trunk._uac is None:  # closing
        return
    trunk.drop_registration()
    if trunk.config.register_expires <= 0:
        return  # a static trunk connects again when it next sends
    trunk.registration_error = reason
    trunk._set_registration(Registration.REGISTERING)
    trunk._schedule(RECONNECT, lambda: trunk._spawn(reconnect(trunk)))


async def reconnect(trunk: "SipuaTrunk") -> None:
    """Connect (if need be), then REGISTER; a failure to connect fails the registration (retried)."""
    transport = trunk._transport
    try:
        await transport.connect()
    except ConnectionError as exc:
        trunk.registration_failed(str(exc))
        return
    if trunk._uac is not None:
        trunk._start_registration()
