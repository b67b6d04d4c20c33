"""Phone legs: a SIP trunk behind a small interface (:mod:`.trunk`), one backend a module.

- :mod:`.trunk` the interface: :class:`~.trunk.Trunk`, :class:`~.trunk.PhoneCall`, their states and results
- :mod:`.sipua` the backend on aiosipua + aiortp (UDP, TCP, TLS; G.711, RFC 4733, SRTP): its trunk;
  :mod:`.sipua_call` a call it places, :mod:`.sipua_inbound` one it answers

:func:`open_trunk` picks the backend for a :class:`~.trunk.TrunkConfig`.
"""

from __future__ import annotations

from signaling.media.sip.trunk import (CallResult, IncomingPhoneCall, PhoneCall, PhoneEvent, PhoneState,
                                       Registration, Trunk, TrunkConfig)

__all__ = ["CallResult", "IncomingPhoneCall", "PhoneCall", "PhoneEvent", "PhoneState", "Registration", "Trunk",
           "TrunkConfig", "open_trunk"]


def open_trunk(config: TrunkConfig, **options) -> Trunk:
    """The trunk for ``config`` (not started: ``async with`` it)."""
    from signaling.media.sip.sipua import SipuaTrunk  # the one backend today
    return SipuaTrunk(config, **options)
