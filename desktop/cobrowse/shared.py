"""What co-browse's customer half (``feature``), its viewers (``viewer``) and remote control
(``control``) share: what a visitor's screen shows now, whether a contact is still live, and
how a co-browse error reaches the browser. The rooms themselves are named in ``desktop.rooms``.
"""

from __future__ import annotations

from typing import Any

from desktop.cobrowse.session import CobrowseError
from desktop.repository.repository import Repository
from desktop.rooms import documents_room, frames_room, inbox_room
from desktop.routing.events import CallbackState
from signaling.bus import Bus
from signaling.protocol import ProtocolError
from signaling.protocol.outbound import BusCobrowseContactEnded, OutCobrowseState

__all__ = ["contact_ended", "contact_live", "open_documents", "refuse"]


async def open_documents(bus: Bus, visitor_id: str) -> dict[str, dict[str, Any]]:
    """push_id -> {document, agent_id, callback_id, page, zoom, pages} of what the customer's
    screen shows now (kept on the bus, so every process sees it; see ``CustomerCobrowse._on_screen``)."""
    last = await bus.last_seq(documents_room(visitor_id))
    events = await bus.replay(documents_room(visitor_id), last - 1) if last else None
    return dict(events[-1][1].get("documents") or {}) if events else {}


async def contact_ended(bus: Bus, *, visitor_id: str, callback_id: str) -> None:
    """The contact with this visitor ended (End call, the customer hung up, a cancel): co-browse
    access ends with it, on every process. The customer's sockets stop the share (and a pending
    request); every viewer's relay of the share stops, so no event or pointer passes any more."""
    await bus.publish(inbox_room(visitor_id), BusCobrowseContactEnded(callback_id=callback_id).to_dict())
    await bus.publish(frames_room(visitor_id), OutCobrowseState(
        visitor_id=visitor_id, state="ended", by="contact", callback_id=callback_id).to_dict())


async def contact_live(repo: Repository, visitor_id: str, agent_id: str | None,
                       callback_id: str | None = None) -> bool:
    """Whether ``agent_id`` is still with this visitor: their offer rings or their call is on.

    A share is consent given to one agent for one contact; it lasts no longer than the contact.
    """
    callback = await repo.active_callback_for_visitor(visitor_id)
    if callback is None or (callback_id is not None and callback.id != callback_id):
        return False
    if callback.state == CallbackState.CONNECTED:
        return callback.agent_id == agent_id
    if callback.state == CallbackState.OFFERED:
        offer = await repo.open_offer_for_callback(callback.id)
        return offer is not None and offer.agent_id == agent_id
    return False


def refuse(error: CobrowseError) -> ProtocolError:
    """A co-browse error as the error the browser is sent."""
    return ProtocolError(error.code, str(error))
