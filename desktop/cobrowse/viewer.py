"""Co-browse viewers: agents and supervisors watching shares, pointing, pushing documents.

The agent-and-supervisor half of ``desktop.cobrowse.feature`` (see its docstring for the rooms).
Each watched share is one extra bus subscription of the viewer's socket, to
``cobrowse:<visitor_id>``, relayed with ``session.send`` (no ``seq``); what the viewer sends
goes to ``cobrowse-in:<visitor_id>``, where the customer's socket applies it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any

from desktop.cobrowse.control import observe
from desktop.cobrowse.documents import DocumentLibrary, LinkSigner
from desktop.cobrowse.shared import contact_live, open_documents
from desktop.repository.repository import Repository
from desktop.rooms import frames_room, inbox_room
from desktop.routing.events import CallbackState
from signaling import protocol
from signaling.bus import Bus, SubscriptionLagged
from signaling.hub import Session
from signaling.protocol import ErrorCode, ProtocolError
from signaling.protocol.outbound import (
    BusCobrowseEnd, OutCobrowsePointer, OutCobrowseRequest, OutCobrowseSnapshot, OutCobrowseViewer,
    OutDocClosedToCustomer, OutDocOpen, OutDocPageToCustomer,
)

__all__ = ["ViewerCobrowse"]

log = logging.getLogger(__name__)

VIEW_BUFFER = 2000  # events a viewer's subscription holds before it must resync


class ViewerCobrowse:
    """Agents and supervisors watching shares; one bus subscription per share watched."""

    def __init__(self, *, repo: Repository, bus: Bus, library: DocumentLibrary | None = None,
                 links: LinkSigner | None = None, clock=time.time):
        self.repo = repo
        self.bus = bus
        self.library = library
        self.links = links
        self.clock = clock
        #: Shares each viewer watches, kept across their socket's reconnects (a desk reload).
        self._watching: dict[str, set[str]] = {}

    async def opened(self, session: Session) -> None:
        session.data.setdefault("cobrowse_views", {})  # the welcome (sent first) may have watched already
        for visitor_id in await self._still_watching(session):
            await self._watch(session, visitor_id)
            await self.bus.publish(inbox_room(visitor_id), OutCobrowseSnapshot().to_dict())

    async def closed(self, session: Session) -> None:
        views: dict[str, asyncio.Task] = session.data.pop("cobrowse_views", {})
        for task in views.values():
            task.cancel()
        await asyncio.gather(*views.values(), return_exceptions=True)

    async def welcome(self, session: Session) -> dict[str, Any]:
        watching = await self._still_watching(session)
        documents = await self._documents_on_screen(session) if session.role == "agent" else []
        return {"cobrowse": watching, "documents": documents}

    async def _documents_on_screen(self, session: Session) -> list[dict[str, Any]]:
        """The documents pushed during this agent's live contacts that are still open on the
        customer's screen, at the customer's page and zoom: a reloaded desk (on any process) shows
        them again and can turn or take them back. Read from the bus (``documents_room``), which
        the customer's socket keeps; a contact that ended gives nothing back."""
        callbacks = [await self.repo.current_contact_for_agent(session.identity)]
        offer = await self.repo.open_offer_for_agent(session.identity)
        if offer is not None:
            callbacks.append(await self.repo.get_callback(offer.callback_id))
        found = []
        for callback in callbacks:
            if callback is None or callback.visitor_id is None or not await contact_live(
                    self.repo, callback.visitor_id, session.identity, callback.id):
                continue
            on_screen = await open_documents(self.bus, callback.visitor_id)
            mine = [{"push_id": push_id, "visitor_id": callback.visitor_id, "callback_id": callback.id,
                     "document": item.get("document") or {}, "page": item.get("page") or 1,
                     "zoom": item.get("zoom") or 1.0, "pages": item.get("pages")}
                    for push_id, item in on_screen.items() if item.get("callback_id") == callback.id]
            if mine:
                await self._watch(session, callback.visitor_id, share=False)  # their turns come back here
            found += mine
        return found

    async def _still_watching(self, session: Session) -> list[str]:
        """The shares this agent watched before a reconnect whose contact is still on.

        A contact that ended while the desk was away ended access with it: forgotten here.
        """
        watching = self._watching.get(session.identity, set())
        for visitor_id in sorted(watching):
            if not await contact_live(self.repo, visitor_id, session.identity):
                watching.discard(visitor_id)
        return sorted(watching)

    async def on_cobrowserequest(self, session: Session, message: protocol.CobrowseRequest) -> dict[str, Any]:
        callback = await self.repo.get_callback(message.callback_id)
        if callback is None or callback.visitor_id is None or not await self._handles(session, callback):
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such callback of yours with a customer on the web")
        agent = await self.repo.get_agent(session.identity)
        visitor_id = callback.visitor_id
        request_id = secrets.token_hex(8)
        await self._watch(session, visitor_id)
        await self.bus.publish(inbox_room(visitor_id), OutCobrowseRequest(
            request_id=request_id, agent_id=session.identity, agent_name=agent.display_name or agent.username,
            callback_id=callback.id, at=self.clock()).to_dict())
        return {"visitor_id": visitor_id, "request_id": request_id}

    async def on_cobrowseview(self, session: Session, message: protocol.CobrowseView) -> dict[str, Any]:
        agent = await self.repo.get_agent(session.identity)
        if agent.role not in ("supervisor", "admin"):
            callback = await self.repo.active_callback_for_visitor(message.visitor_id)
            if callback is None or not await self._handles(session, callback):
                raise ProtocolError(ErrorCode.NOT_FOUND, "no such customer of yours")
        await self._watch(session, message.visitor_id)
        name = agent.display_name or agent.username
        await self.bus.publish(inbox_room(message.visitor_id), OutCobrowseViewer(name=name, role=agent.role).to_dict())
        # A late joiner needs a full snapshot: ask the customer's recorder for one.
        await self.bus.publish(inbox_room(message.visitor_id), OutCobrowseSnapshot().to_dict())
        return {"visitor_id": message.visitor_id}

    async def on_cobrowsepointer(self, session: Session, message: protocol.CobrowsePointer) -> None:
        if message.visitor_id not in session.data.get("cobrowse_views", {}):
            raise ProtocolError(ErrorCode.INVALID_STATE, "you are not watching this customer's page")
        name = session.data.get("cobrowse_name")
        if name is None:
            agent = await self.repo.get_agent(session.identity)
            name = session.data["cobrowse_name"] = agent.display_name or agent.username
        await self.bus.publish(inbox_room(message.visitor_id), OutCobrowsePointer(
            name=name, node=message.node, fx=message.fx, fy=message.fy, x=message.x, y=message.y,
            highlight=message.highlight).to_dict())

    async def on_cobrowseend(self, session: Session, message: protocol.CobrowseEnd) -> None:
        views = session.data.get("cobrowse_views", {})
        task = views.get(message.visitor_id)
        self._unwatch(session, message.visitor_id)
        if task is not None:
            task.cancel()
        agent = await self.repo.get_agent(session.identity)
        # Only the agent the customer said yes to can end the share (checked on the customer's side).
        await self.bus.publish(inbox_room(message.visitor_id), BusCobrowseEnd(
            agent_id=session.identity, agent_name=agent.display_name or agent.username).to_dict())

    async def on_docpush(self, session: Session, message: protocol.DocPush) -> dict[str, Any]:
        callback = await self.repo.get_callback(message.callback_id)
        if callback is None or callback.visitor_id is None or not await self._handles(session, callback):
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such callback of yours with a customer on the web")
        document = await asyncio.to_thread(self.library.get, message.document_id) if self.library else None
        if document is not None and document.customer_id is not None:
            # Another customer's document is not pushed here (nor said to exist).
            owner = await self.repo.resolve_customer(callback.customer_id)
            if document.customer_id not in (callback.customer_id, owner.id if owner else None):
                document = None
        if document is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such document in the library")
        agent = await self.repo.get_agent(session.identity)
        visitor_id = callback.visitor_id
        push_id = secrets.token_hex(8)
        # The customer's page turns come back on the frames room; not a share (a reload must not
        # wait for their page): the welcome's ``documents`` watches it again.
        await self._watch(session, visitor_id, share=False)
        public = {**document.public(), "url": self.links.url(document.id, visitor_id)}
        await self.bus.publish(inbox_room(visitor_id), OutDocOpen(
            push_id=push_id, document=public, agent_id=session.identity,
            agent_name=agent.display_name or agent.username, callback_id=callback.id,
            # The customer's next page sends it back (doc_resume) to keep the document open.
            token=self.links.push_token(push_id=push_id, document_id=document.id, name=document.name,
                                        visitor_id=visitor_id, agent_id=session.identity,
                                        kind=document.kind, callback_id=callback.id)).to_dict())
        try:
            await self.repo.add_contact_event(
                customer_id=callback.customer_id, kind="document_pushed", channel="web", at=self.clock(),
                visitor_id=visitor_id, callback_id=callback.id, agent_id=session.identity,
                data={"push_id": push_id, "document_id": document.id, "name": document.name,
                      "kind": document.kind})
        except Exception:
            log.warning("could not write document_pushed to the timeline", exc_info=True)
        return {"push_id": push_id, "visitor_id": visitor_id, "document": public}

    async def on_docpage(self, session: Session, message: protocol.DocPage) -> None:
        if not message.visitor_id or message.visitor_id not in session.data.get("cobrowse_views", {}):
            raise ProtocolError(ErrorCode.INVALID_STATE, "push a document to this customer first")
        await self.bus.publish(inbox_room(message.visitor_id), OutDocPageToCustomer(
            push_id=message.push_id, page=message.page, zoom=message.zoom).to_dict())

    async def on_docclose(self, session: Session, message: protocol.DocClose) -> None:
        if not message.visitor_id or message.visitor_id not in session.data.get("cobrowse_views", {}):
            raise ProtocolError(ErrorCode.INVALID_STATE, "push a document to this customer first")
        await self.bus.publish(inbox_room(message.visitor_id), OutDocClosedToCustomer(
            push_id=message.push_id).to_dict())

    async def _handles(self, session: Session, callback) -> bool:
        if session.role == "supervisor":
            return True
        if callback.state == CallbackState.CONNECTED and callback.agent_id == session.identity:
            return True
        if callback.state == CallbackState.OFFERED:
            offer = await self.repo.open_offer_for_callback(callback.id)
            return offer is not None and offer.agent_id == session.identity
        return False

    def _unwatch(self, session: Session, visitor_id: str) -> None:
        """Stop relaying this share to the socket; a desk reload won't watch it again."""
        session.data.get("cobrowse_views", {}).pop(visitor_id, None)
        session.data.get("cobrowse_seen", {}).pop(visitor_id, None)
        self._watching.get(session.identity, set()).discard(visitor_id)

    async def _watch(self, session: Session, visitor_id: str, *, share: bool = True) -> None:
        """Relay the customer's frames room to this socket (``share``: a co-browse share, watched
        again after a desk reload; else for pushed documents only)."""
        views: dict[str, asyncio.Task] = session.data.setdefault("cobrowse_views", {})
        if share and session.role == "agent":  # a desk reload watches again; a supervisor's page does not
            self._watching.setdefault(session.identity, set()).add(visitor_id)
        if visitor_id in views and not views[visitor_id].done():
            return
        ready = asyncio.get_running_loop().create_future()
        views[visitor_id] = asyncio.create_task(self._relay(session, visitor_id, ready))
        async with asyncio.timeout(5):
            await asyncio.shield(ready)

    async def _relay(self, session: Session, visitor_id: str, ready: asyncio.Future) -> None:
        while True:
            try:
                async with self.bus.subscribe(frames_room(visitor_id), buffer=VIEW_BUFFER) as subscription:
                    if not ready.done():
                        ready.set_result(None)
                    async for _seq, event in subscription:
                        observe(session, visitor_id, event)  # the share's and control's state
                        session.send(event)
                        if event.get("type") == "cobrowse_state" and event.get("state") == "ended":
                            self._unwatch(session, visitor_id)  # the contact ended: so does access
                            return
            except SubscriptionLagged:
                # Fell behind: start again from a fresh full snapshot.
                await self.bus.publish(inbox_room(visitor_id), OutCobrowseSnapshot().to_dict())
