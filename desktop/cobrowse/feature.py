"""Co-browse on the hub's sockets: the I/O edge of ``desktop.cobrowse.session``.

Two features plug into ``desktop.sockets`` (see ``features`` in ``desktop/app.py``):

- :class:`CustomerCobrowse` on customer sockets. Each customer socket gets a second
  bus subscription, to ``cobrowse-in:<visitor_id>``: what viewers send the page
  (requests, pointer, snapshot asks, end). The consent state machine of that tab
  (:class:`~desktop.cobrowse.session.Share`) lives with the socket; the customer's rrweb
  events go to ``cobrowse:<visitor_id>`` once (and only while) it is ``sharing``.
- :class:`~desktop.cobrowse.viewer.ViewerCobrowse` on agent and supervisor sockets: subscribes the socket to
  ``cobrowse:<visitor_id>`` of each share it watches and relays what the viewer
  sends to ``cobrowse-in:<visitor_id>``.

rrweb frames never enter the main rooms (``visitor:``, ``agent:``, ``wall``): their
replay windows stay for the events a reconnecting client must not miss. Nothing
here logs event contents. Rooms work across processes through the bus, so the
customer and the agent may be on different processes.

A share survives the customer's page loads: accepting acks a signed ``token``
(visitor, agent, request; valid ``SHARE_MAX_AGE`` seconds) that the next page sends
in ``cobrowse_resume``; the recorder on the new page starts with a full snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import msgspec
from itsdangerous import BadSignature, URLSafeTimedSerializer

from desktop.cobrowse.documents import LinkSigner
from desktop.cobrowse.session import (
    ByteBudget,
    ChunkAssembler,
    CobrowseError,
    Share,
    ShareLimits,
    check_events,
)
from desktop.cobrowse.shared import contact_live, open_documents, refuse
from desktop.cobrowse.viewer_inbox import ViewerInbox
from desktop.customers.url_privacy import KNOWN_PRIVATE_PARAMS
from desktop.repository.repository import Repository
from desktop.rooms import documents_room, frames_room, inbox_room
from signaling import protocol
from signaling.bus import Bus
from signaling.hub import Session
from signaling.protocol import ErrorCode, ProtocolError
from signaling.protocol.outbound import (
    BusDocumentsOpen, OutCobrowseEnded, OutCobrowseEvents, OutCobrowseLoading,
    OutCobrowseState, OutCobrowseUnmirrored, OutDocClosedToViewer, OutDocPageToViewer,
)

__all__ = ["SHARE_MAX_AGE", "CustomerCobrowse"]

log = logging.getLogger(__name__)

SHARE_MAX_AGE = 2 * 3600   # seconds a share token stays valid across page loads
#: rrweb frames a frames room keeps for a subscriber's gap (about 5 s at 10 a second). No one
#: replays them (a late joiner gets a fresh snapshot); 500 kept per share made the collector's
#: full passes over 500 shares take 100+ ms, every socket paused (bench/cobrowse_relay.py).
FRAMES_KEEP = 50

_encoder = msgspec.json.Encoder()


class CustomerCobrowse:
    """The customer's side: consent, events, resume. One :class:`Share` per socket."""

    def __init__(self, *, repo: Repository, bus: Bus, secret_key: str, clock=time.time,
                 limits: ShareLimits | None = None, url_privacy: dict[str, Any] | None = None):
        self.repo = repo
        #: How the recorder shows page URLs to the agent ({query, params}: desktop/customers/url_privacy.py).
        self.url_privacy = url_privacy or {"query": "mask", "params": list(KNOWN_PRIVATE_PARAMS)}
        self.bus = bus
        self.clock = clock
        self.limits = limits or ShareLimits()
        self._tokens = URLSafeTimedSerializer(secret_key, salt="otodesk.cobrowse")
        self._links = LinkSigner(secret_key)
        #: "Go to this page" and remote control (desktop/cobrowse/control.py), set by cobrowse_features.
        self.control = None
        #: Serialises the read-modify-write of documents_room (all of a visitor's changes pass here).
        self._documents_lock = asyncio.Lock()

    # -- lifetime ---------------------------------------------------------------

    async def opened(self, session: Session) -> None:
        session.data["cobrowse"] = Share()
        session.data["cobrowse_chunks"] = ChunkAssembler(self.limits)
        session.data["cobrowse_budget"] = ByteBudget(self.limits, now=self.clock())
        session.data["documents"] = {}  # push_id -> what the customer has open, and pages seen
        inbox = ViewerInbox(self.bus, inbox_room(session.identity), self._from_viewer, session)
        try:
            await inbox.open()
        except Exception:  # the socket still works, without what viewers send it
            log.warning("co-browse inbox of %s not subscribed", session.identity, exc_info=True)
        else:
            session.data["cobrowse_inbox"] = inbox

    async def closed(self, session: Session) -> None:
        inbox = session.data.pop("cobrowse_inbox", None)
        if inbox is not None:
            await inbox.close()
        share: Share | None = session.data.get("cobrowse")
        if share is not None and share.sharing:
            # A page load (or a lost connection): the next page resumes the share.
            await self._announce(session, "paused")

    async def _from_viewer(self, session: Session, event: dict[str, Any]) -> None:
        share: Share = session.data["cobrowse"]
        kind = event.get("type")
        if kind == "cobrowse_request":
            if share.sharing:
                await self._announce(session, "sharing")  # already shared: tell the asker
                return
            share.request(request_id=event["request_id"], agent_id=event["agent_id"],
                          agent_name=event.get("agent_name", ""), callback_id=event.get("callback_id"))
            session.send(event)
            await self._announce(session, "requested")
        elif kind == "cobrowse_end":
            if share.agent_id != event.get("agent_id") or share.state not in ("requested", "sharing"):
                return
            since = share.stop()
            session.send(OutCobrowseEnded(by="agent", name=event.get("agent_name", "")).to_dict())
            await self._announce(session, "stopped", by="agent")
            if since is not None:
                await self._timeline(session, "cobrowse_stopped", share, by="agent", since=since)
        elif kind == "cobrowse_contact_ended":
            if share.callback_id in (None, event.get("callback_id")):
                await self._end_with_contact(session)
        elif kind in ("cobrowse_snapshot", "cobrowse_pointer", "cobrowse_viewer"):
            if share.sharing:
                session.send(event)
        elif self.control is not None and kind in self.control.kinds:
            await self.control.from_viewer(session, event)
        elif kind == "doc_open":
            # Documents need no co-browse consent: the agent is on a call with this customer.
            document = event["document"]
            session.data["documents"][event["push_id"]] = {
                "document_id": document["id"], "name": document["name"], "pages_seen": {1}, "pages": None,
                "agent_id": event.get("agent_id"), "opened_at": self.clock()}
            session.send(event)
            await self._on_screen(session.identity, event["push_id"], {
                "document": {key: document.get(key) for key in ("id", "name", "kind")},
                "agent_id": event.get("agent_id"), "callback_id": event.get("callback_id"),
                "page": 1, "zoom": 1.0, "pages": None})
        elif kind == "doc_page":
            opened = session.data["documents"].get(event.get("push_id"))
            if opened is not None:
                opened["pages_seen"].add(event.get("page"))
                session.send(event)
        elif kind == "doc_closed":
            opened = session.data["documents"].pop(event.get("push_id"), None)
            if opened is not None:
                session.send(event)
                await self._on_screen(session.identity, event["push_id"], None)
                await self._document_closed(session, event["push_id"], opened, by="agent")

    async def _end_with_contact(self, session: Session) -> None:
        """The call is over: the share (or the question) ends, on the page and for the viewers."""
        share: Share = session.data["cobrowse"]
        if share.state not in ("requested", "sharing"):
            return
        since = share.stop()
        session.send(OutCobrowseEnded(by="contact", name=share.agent_name).to_dict())
        await self._announce(session, "stopped", by="contact")
        if since is not None:
            await self._timeline(session, "cobrowse_stopped", share, by="contact", since=since)
        await self.bus.erase(frames_room(session.identity))

    # -- the customer's messages -------------------------------------------------------

    async def on_cobrowseanswer(self, session: Session, message: protocol.CobrowseAnswer) -> dict[str, Any]:
        share: Share = session.data["cobrowse"]
        now = self.clock()
        if (message.accept and share.state == "requested" and message.request_id == share.request_id
                and not await contact_live(self.repo, session.identity, share.agent_id, share.callback_id)):
            share.stop()  # asked during a call that has ended since: nothing may be shared now
            session.send(OutCobrowseEnded(by="contact", name=share.agent_name).to_dict())
            raise ProtocolError(ErrorCode.INVALID_STATE, "the call has ended; nothing is shared")
        try:
            share.answer(message.request_id, accept=message.accept, now=now)
        except CobrowseError as exc:
            raise refuse(exc) from None
        if not message.accept:
            await self._announce(session, "refused")
            await self._timeline(session, "cobrowse_refused", share)
            return {}
        await self._announce(session, "sharing")
        await self._timeline(session, "cobrowse_started", share)
        token = self._tokens.dumps({"v": session.identity, "r": share.request_id, "a": share.agent_id,
                                    "n": share.agent_name, "s": share.since, "c": share.callback_id})
        return {"token": token, "agent_name": share.agent_name, **self._recorder()}

    async def on_cobrowseresume(self, session: Session, message: protocol.CobrowseResume) -> dict[str, Any]:
        try:
            data = self._tokens.loads(message.token, max_age=SHARE_MAX_AGE)
        except BadSignature:
            raise ProtocolError(ErrorCode.UNAUTHORIZED, "this share has ended or its token is invalid") from None
        if not isinstance(data, dict) or data.get("v") != session.identity:
            raise ProtocolError(ErrorCode.UNAUTHORIZED, "this share belongs to another visitor")
        share: Share = session.data["cobrowse"]
        if share.sharing:
            return {"agent_name": share.agent_name, **self._recorder()}
        # The token outlives the call (a page loaded after End): the contact decides, not the token.
        if not await contact_live(self.repo, session.identity, data.get("a"), data.get("c")):
            raise ProtocolError(ErrorCode.UNAUTHORIZED, "this share ended with the call")
        try:
            share.resume(request_id=data["r"], agent_id=data["a"], agent_name=data.get("n", ""),
                         since=float(data.get("s") or self.clock()), callback_id=data.get("c"))
        except CobrowseError as exc:
            raise refuse(exc) from None
        await self._announce(session, "sharing", resumed=True)
        return {"agent_name": share.agent_name, **self._recorder()}

    async def on_cobrowseevents(self, session: Session, message: protocol.CobrowseEvents) -> None:
        share: Share = session.data["cobrowse"]
        try:
            share.require_sharing()
            events = check_events(message.events, limits=self.limits)
            encoded = _encoder.encode(events)
            session.data["cobrowse_budget"].take(len(encoded), self.clock())
        except CobrowseError as exc:
            raise refuse(exc) from None
        await self._publish_events(session, encoded)

    async def on_cobrowsechunk(self, session: Session, message: protocol.CobrowseChunk) -> dict[str, Any] | None:
        share: Share = session.data["cobrowse"]
        try:
            share.require_sharing()
        except CobrowseError as exc:
            raise refuse(exc) from None
        if message.index == 0 and message.total > 1:
            # The viewers show "loading the page…" over a mirror that is no longer the page.
            await self._loading(session, total=message.total)
        try:
            session.data["cobrowse_budget"].take(len(message.data), self.clock())
            events = session.data["cobrowse_chunks"].add(message.batch, message.index, message.total,
                                                         message.data, message.encoding)
        except CobrowseError as exc:
            # The recorder sends the snapshot again (its last piece's command fails); the
            # viewers are told plainly meanwhile.
            await self._loading(session, failed=str(exc))
            raise refuse(exc) from None
        if events is not None:
            await self._publish_events(session, _encoder.encode(events))
            return {"events": len(events)}
        return None

    async def _loading(self, session: Session, *, total: int | None = None, failed: str | None = None) -> None:
        await self.bus.publish(frames_room(session.identity), OutCobrowseLoading(
            visitor_id=session.identity, pieces=total, failed=failed).to_dict(), keep=FRAMES_KEEP)

    async def on_cobrowsestop(self, session: Session, message: protocol.CobrowseStop) -> None:
        share: Share = session.data["cobrowse"]
        if share.state not in ("requested", "sharing"):
            return  # stopping twice is fine
        since = share.stop()
        await self._announce(session, "stopped", by="customer")
        if since is not None:
            await self._timeline(session, "cobrowse_stopped", share, by="customer", since=since)
        await self.bus.erase(frames_room(session.identity))

    async def on_docpage(self, session: Session, message: protocol.DocPage) -> None:
        opened = session.data["documents"].get(message.push_id)
        if opened is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such document is open on this page")
        if opened["pages"] is not None and message.page > opened["pages"]:
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"the document has {opened['pages']} pages")
        opened["pages_seen"].add(message.page)
        opened["pages"] = message.pages or opened["pages"]
        await self._on_screen(session.identity, message.push_id, {
            "page": message.page, "zoom": message.zoom, "pages": opened["pages"]})
        await self.bus.publish(frames_room(session.identity), OutDocPageToViewer(
            visitor_id=session.identity, push_id=message.push_id, page=message.page, zoom=message.zoom,
            pages=opened["pages"]).to_dict())

    async def on_cobrowseunmirrored(self, session: Session, message: protocol.CobrowseUnmirrored) -> None:
        """What the page has that the mirror can't show: the viewers draw a notice and placeholders."""
        share: Share = session.data["cobrowse"]
        try:
            share.require_sharing()
        except CobrowseError as exc:
            raise refuse(exc) from None
        await self.bus.publish(frames_room(session.identity), OutCobrowseUnmirrored(
            visitor_id=session.identity, frames=message.frames, canvases=message.canvases,
            videos=message.videos, areas=message.areas).to_dict())

    async def on_docresume(self, session: Session, message: protocol.DocResume) -> dict[str, Any]:
        """A pushed document stays open across the customer's page loads: the new page re-opens it."""
        push = self._links.check_push(message.token, session.identity)
        if push is None:
            raise ProtocolError(ErrorCode.UNAUTHORIZED, "this document is no longer shared with you")
        session.data["documents"][push["p"]] = {
            "document_id": push["d"], "name": push.get("n", ""), "pages_seen": {message.page},
            "pages": message.pages, "agent_id": push.get("a"), "opened_at": self.clock()}
        await self._on_screen(session.identity, push["p"], {
            "document": {"id": push["d"], "name": push.get("n", ""), "kind": push.get("k")},
            "agent_id": push.get("a"), "callback_id": push.get("c"),
            "page": message.page, "zoom": message.zoom, "pages": message.pages})
        await self.bus.publish(frames_room(session.identity), OutDocPageToViewer(
            visitor_id=session.identity, push_id=push["p"], page=message.page, zoom=message.zoom,
            pages=message.pages, resumed=True).to_dict())
        # The link in the first doc_open expires; the new page gets a fresh one.
        return {"push_id": push["p"], "url": self._links.url(push["d"], session.identity)}

    async def on_docclose(self, session: Session, message: protocol.DocClose) -> None:
        opened = session.data["documents"].pop(message.push_id, None)
        if opened is None:
            return  # closing twice is fine
        await self.bus.publish(frames_room(session.identity), OutDocClosedToViewer(
            visitor_id=session.identity, push_id=message.push_id).to_dict())
        await self._on_screen(session.identity, message.push_id, None)
        await self._document_closed(session, message.push_id, opened, by="customer")

    async def _on_screen(self, visitor_id: str, push_id: str, change: dict[str, Any] | None) -> None:
        """Keep on the bus what the customer's screen shows (``documents_room``): ``change``
        updates the document ``push_id``, None removes it. The customer's socket is the one
        writer (pushes, turns and take-backs all reach it); a reloaded desk reads it."""
        try:
            async with self._documents_lock:
                documents = await open_documents(self.bus, visitor_id)
                if change is None:
                    if documents.pop(push_id, None) is None:
                        return
                else:
                    documents[push_id] = {**documents.get(push_id, {}), **change}
                await self.bus.publish(documents_room(visitor_id), BusDocumentsOpen(documents=documents).to_dict(),
                                       keep=1)
        except Exception:
            log.warning("could not keep the customer's open documents", exc_info=True)

    async def _document_closed(self, session: Session, push_id: str, opened: dict, *, by: str) -> None:
        """One timeline entry per pushed document: who closed it, which pages were seen, how long."""
        now = self.clock()
        try:
            await self.repo.add_contact_event(
                customer_id=session.data["customer_id"], kind="document_closed", channel="web", at=now,
                visitor_id=session.identity, agent_id=opened.get("agent_id"),
                data={"push_id": push_id, "document_id": opened["document_id"], "name": opened["name"],
                      "by": by, "pages": opened["pages"],
                      "pages_seen": sorted(p for p in opened["pages_seen"] if isinstance(p, int)),
                      "duration": round(max(0.0, now - opened["opened_at"]), 1)})
        except Exception:
            log.warning("could not write document_closed to the timeline", exc_info=True)

    # -- helpers -------------------------------------------------------------------

    def _recorder(self) -> dict[str, Any]:
        """What the customer's recorder must respect: the pace of snapshot pieces, URL privacy."""
        return {"pace": self.limits.pace(), "url_privacy": self.url_privacy}

    async def _publish_events(self, session: Session, events: bytes) -> None:
        # Raw: checked JSON that no one reads again on the way; no process decodes and
        # re-encodes it (a memory bus shares it, the hub's writer copies it into the frame).
        await self.bus.publish(frames_room(session.identity), OutCobrowseEvents(
            visitor_id=session.identity, events=msgspec.Raw(events)).to_dict(), keep=FRAMES_KEEP)

    async def _announce(self, session: Session, state: str, **extra: Any) -> None:
        share: Share = session.data["cobrowse"]
        await self.bus.publish(frames_room(session.identity), OutCobrowseState(
            visitor_id=session.identity, state=state, request_id=share.request_id, agent_id=share.agent_id,
            at=self.clock(), **extra).to_dict())

    async def _timeline(self, session: Session, kind: str, share: Share, *, by: str | None = None,
                        since: float | None = None) -> None:
        now = self.clock()
        data: dict[str, Any] = {"request_id": share.request_id, "agent_name": share.agent_name}
        if by is not None:
            data["by"] = by
        if since is not None:
            data["duration"] = round(max(0.0, now - since), 1)
        try:
            await self.repo.add_contact_event(customer_id=session.data["customer_id"], kind=kind, channel="web",
                                              at=now, visitor_id=session.identity, agent_id=share.agent_id,
                                              data=data)
        except Exception:
            log.warning("could not write %s to the timeline", kind, exc_info=True)
