"""The agent's hand on the page, beyond the pointer: "go to this page" and remote control.

Pure part first (URL checks, the control consent state machine, a rate budget), then
the two socket features that drive it, plugged in next to ``desktop.cobrowse.feature``:

- :class:`ViewerControl` on agent sockets (supervisors can't send these messages):
  ``cobrowse_navigate``, ``cobrowse_control`` (request / release), ``cobrowse_input``.
  It refuses, with a clear error, anything the agent may not do *as far as it can
  see*: not the share's agent, share not live, control not granted to them, the site
  has remote control off, a URL of another origin, too many inputs.
- :class:`CustomerControl` on customer sockets: the authority. What viewers send
  arrives on the customer's inbox room (``desktop.cobrowse.feature.CustomerCobrowse``
  passes these kinds here) and reaches the page only when *this* socket's share is
  live, belongs to that agent and, for inputs, control was granted on this page.
  The widget then checks each input again on the customer's device (never into a
  masked or private field).

Control never outlives a page: a page load closes the socket and ends it (the agent
is told, ``by: "page"``); the agent asks again on the next page. Who saw which state:
``cobrowse_control_state`` on the frames room (``granted`` / ``refused`` / ``revoked``),
which the viewer's relay also notes in ``session.data["cobrowse_seen"]``.

Timeline: ``cobrowse_navigated`` (url, title, went), ``cobrowse_control_granted``,
``cobrowse_control_refused``, ``cobrowse_control_ended`` (by, duration).

Exceptions: :class:`ControlError` (a ``CobrowseError``), :class:`ForeignUrl` (also a
``ValueError``), :class:`InvalidControlState` (also a ``RuntimeError``).
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import secrets
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

from desktop.cobrowse.feature import frames_room, inbox_room, refuse
from desktop.cobrowse.session import CobrowseError, Share
from desktop.repository.repository import Repository
from signaling import protocol
from signaling.bus import Bus
from signaling.hub import Session
from signaling.protocol import ErrorCode, ProtocolError
from signaling.protocol.outbound import (
    BusCobrowseControlRelease, OutCobrowseControlRefused, OutCobrowseControlRequest, OutCobrowseControlState,
    OutCobrowseControlStateToCustomer, OutCobrowseInput, OutCobrowseNavigate, OutCobrowseNavigateAnswer,
)

__all__ = [
    "Control", "ControlError", "ControlState", "CustomerControl", "ForeignUrl", "InputBudget",
    "InvalidControlState", "ViewerControl", "VIEWER_KINDS", "control_allowed", "observe", "origin_of",
    "same_site_url",
]

log = logging.getLogger(__name__)

#: What viewers send the customer's inbox that this module handles there.
VIEWER_KINDS = frozenset({"cobrowse_navigate", "cobrowse_control_request", "cobrowse_control_release",
                          "cobrowse_input"})


class ControlError(CobrowseError):
    code = ErrorCode.INVALID_STATE


class ForeignUrl(ControlError, ValueError):
    code = ErrorCode.BAD_MESSAGE


class InvalidControlState(ControlError, RuntimeError):
    code = ErrorCode.INVALID_STATE


# -- URLs -----------------------------------------------------------------------------

def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, lower-cased; None for anything else."""
    try:
        parts = urlsplit(url or "")
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def same_site_url(url: str, page_url: str | None) -> str:
    """``url`` (absolute, or relative to the customer's page) if it is on the page's origin.

    Raises :class:`ForeignUrl` otherwise: another site, another scheme (``javascript:``,
    ``data:``), credentials in the URL, or no known page to compare with.
    """
    page_origin = origin_of(page_url)
    if page_origin is None:
        raise ForeignUrl("the customer's current page is not known, so no page can be proposed")
    text = url.strip()
    if any(ord(c) < 0x20 for c in text):
        raise ForeignUrl("the URL has control characters")
    absolute = urljoin(page_url, text)
    parts = urlsplit(absolute)
    if parts.username or parts.password:
        raise ForeignUrl("a URL with a user name or password can't be proposed")
    if origin_of(absolute) != page_origin:
        raise ForeignUrl(f"only pages of the customer's own site ({page_origin}) can be proposed")
    return absolute


def control_allowed(sites: tuple[str, ...], page_url: str | None) -> bool:
    """Whether remote control is on for the site of ``page_url`` (``OTODESK_COBROWSE_REMOTE_CONTROL``).

    ``sites`` lists page origins, or ``*`` / ``true`` for every site; empty: off.
    """
    if not sites:
        return False
    if any(site.lower() in ("*", "true", "yes", "on", "1") for site in sites):
        return True
    origin = origin_of(page_url)
    return origin is not None and origin in {origin_of(site) for site in sites}


# -- the control consent state machine ---------------------------------------------------

class ControlState(enum.StrEnum):
    OFF = "off"
    REQUESTED = "requested"
    GRANTED = "granted"


_MOVES: dict[tuple[ControlState, str], ControlState] = {
    (ControlState.OFF, "request"): ControlState.REQUESTED,
    (ControlState.REQUESTED, "request"): ControlState.REQUESTED,  # asked again
    (ControlState.REQUESTED, "accept"): ControlState.GRANTED,
    (ControlState.REQUESTED, "refuse"): ControlState.OFF,
    (ControlState.REQUESTED, "revoke"): ControlState.OFF,
    (ControlState.GRANTED, "revoke"): ControlState.OFF,
}


@dataclasses.dataclass(eq=False)
class Control:
    """Remote control of one customer tab: asked, then granted each time by the customer."""

    state: ControlState = ControlState.OFF
    request_id: str | None = None
    agent_id: str | None = None
    #: The share it was granted within: a new share never inherits control.
    share_request: str | None = None
    since: float | None = None

    def _move(self, action: str) -> None:
        target = _MOVES.get((self.state, action))
        if target is None:
            raise InvalidControlState(f'Cannot {action} remote control in state "{self.state}"')
        self.state = target

    def request(self, *, request_id: str, agent_id: str, share_request: str | None) -> None:
        if self.state == ControlState.GRANTED:
            raise InvalidControlState("the agent already has control")
        self._move("request")
        self.request_id, self.agent_id, self.share_request = request_id, agent_id, share_request

    def answer(self, request_id: str, *, accept: bool, now: float) -> None:
        if self.state != ControlState.REQUESTED or request_id != self.request_id:
            raise InvalidControlState("no such request for control is pending")
        self._move("accept" if accept else "refuse")
        self.since = now if accept else None

    def revoke(self) -> float | None:
        """End control (or a pending request); returns when control began, if it had."""
        self._move("revoke")
        since, self.since = self.since, None
        return since

    def granted_to(self, agent_id: str | None, share: Share) -> bool:
        return (self.state == ControlState.GRANTED and agent_id is not None and agent_id == self.agent_id
                and share.sharing and share.agent_id == agent_id and share.request_id == self.share_request)


@dataclasses.dataclass(kw_only=True)
class InputBudget:
    """A token bucket: ``rate`` inputs a second, ``burst`` at once (the desk batches typing)."""

    rate: float = 15.0
    burst: float = 40.0
    tokens: float = 40.0
    at: float = 0.0

    def take(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            raise ControlError(f"more than {self.rate:g} control inputs a second", code=ErrorCode.RATE_LIMITED)
        self.tokens -= 1


def observe(session: Session, visitor_id: str, event: dict[str, Any]) -> None:
    """Note, on a viewer's socket, the share and control states its relay passes on."""
    seen = session.data.setdefault("cobrowse_seen", {}).setdefault(visitor_id, {})
    kind = event.get("type")
    if kind == "cobrowse_state":
        seen["state"] = event.get("state")
        seen["agent_id"] = event.get("agent_id")
        if event.get("state") != "sharing":
            seen.pop("control", None)
    elif kind == "cobrowse_events" and seen.get("state") in (None, "paused"):
        seen["state"] = "sharing"  # a reload of the desk: events prove the share is live
    elif kind == "cobrowse_control_state":
        seen["control"] = event.get("agent_id") if event.get("state") == "granted" else None


# -- the agent's side -----------------------------------------------------------------------

class ViewerControl:
    """``cobrowse_navigate``, ``cobrowse_control`` and ``cobrowse_input`` from the sharing agent."""

    def __init__(self, *, repo: Repository, bus: Bus, remote_control: tuple[str, ...] = (), clock=time.time):
        self.repo = repo
        self.bus = bus
        self.remote_control = remote_control
        self.clock = clock

    async def _agent_of_share(self, session: Session, visitor_id: str) -> dict[str, Any]:
        if visitor_id not in session.data.get("cobrowse_views", {}):
            raise ProtocolError(ErrorCode.INVALID_STATE, "you are not watching this customer's page")
        seen = session.data.get("cobrowse_seen", {}).get(visitor_id, {})
        if seen.get("state") != "sharing":
            raise ProtocolError(ErrorCode.INVALID_STATE, "the customer is not sharing their page now")
        if seen.get("agent_id") not in (None, session.identity):
            raise ProtocolError(ErrorCode.UNAUTHORIZED, "only the agent the customer shares with can do this")
        return seen

    async def _name(self, session: Session) -> str:
        name = session.data.get("cobrowse_name")
        if name is None:
            agent = await self.repo.get_agent(session.identity)
            name = session.data["cobrowse_name"] = agent.display_name or agent.username
        return name

    async def on_cobrowsenavigate(self, session: Session, message: protocol.CobrowseNavigate) -> dict[str, Any]:
        await self._agent_of_share(session, message.visitor_id)
        visitor = await self.repo.get_visitor(message.visitor_id)
        try:
            url = same_site_url(message.url, visitor.current_url if visitor else None)
        except ControlError as exc:
            raise refuse(exc) from None
        nav_id = secrets.token_hex(8)
        await self.bus.publish(inbox_room(message.visitor_id), OutCobrowseNavigate(
            nav_id=nav_id, url=url, title=message.title, agent_id=session.identity,
            agent_name=await self._name(session)).to_dict())
        return {"nav_id": nav_id, "url": url}

    async def on_cobrowsecontrol(self, session: Session, message: protocol.CobrowseControl) -> dict[str, Any]:
        await self._agent_of_share(session, message.visitor_id)
        if message.action == "release":
            await self.bus.publish(inbox_room(message.visitor_id), BusCobrowseControlRelease(
                agent_id=session.identity).to_dict())
            return {}
        visitor = await self.repo.get_visitor(message.visitor_id)
        if not control_allowed(self.remote_control, visitor.current_url if visitor else None):
            raise ProtocolError(ErrorCode.UNAUTHORIZED, "remote control is off for this site "
                                "(OTODESK_COBROWSE_REMOTE_CONTROL)")
        request_id = secrets.token_hex(8)
        await self.bus.publish(inbox_room(message.visitor_id), OutCobrowseControlRequest(
            request_id=request_id, agent_id=session.identity, agent_name=await self._name(session)).to_dict())
        return {"request_id": request_id}

    async def on_cobrowseinput(self, session: Session, message: protocol.CobrowseInput) -> None:
        seen = await self._agent_of_share(session, message.visitor_id)
        if seen.get("control") != session.identity:
            raise ProtocolError(ErrorCode.INVALID_STATE, "the customer has not given you control of their page")
        if message.action in ("text", "key") and message.node is None:
            raise ProtocolError(ErrorCode.BAD_MESSAGE, "typing needs the node of a field")
        budget: InputBudget = session.data.setdefault("cobrowse_input_budget", InputBudget(at=self.clock()))
        try:
            budget.take(self.clock())
        except ControlError as exc:
            raise refuse(exc) from None
        await self.bus.publish(inbox_room(message.visitor_id), OutCobrowseInput(
            agent_id=session.identity, action=message.action, node=message.node, fx=message.fx, fy=message.fy,
            dx=message.dx, dy=message.dy, text=message.text, key=message.key).to_dict())


# -- the customer's side (the authority) -------------------------------------------------------

class CustomerControl:
    """Applies the agent's navigate / control / input to this customer's tab, when allowed."""

    kinds = VIEWER_KINDS

    def __init__(self, *, repo: Repository, bus: Bus, remote_control: tuple[str, ...] = (), clock=time.time):
        self.repo = repo
        self.bus = bus
        self.remote_control = remote_control
        self.clock = clock

    async def opened(self, session: Session) -> None:
        session.data["cobrowse_control"] = Control()
        session.data["cobrowse_navs"] = {}  # nav_id -> the proposed page, until answered

    async def closed(self, session: Session) -> None:
        control: Control | None = session.data.get("cobrowse_control")
        if control is not None and control.state == ControlState.GRANTED:
            await self._ended(session, control, by="page")  # a page load ends control

    async def from_viewer(self, session: Session, event: dict[str, Any]) -> None:
        """A viewer's message from the inbox room (see ``VIEWER_KINDS``)."""
        share: Share = session.data["cobrowse"]
        control: Control = session.data.setdefault("cobrowse_control", Control())
        agent_id = event.get("agent_id")
        if not share.sharing or share.agent_id != agent_id:
            return  # a forged or stale message: the viewer side already refused it
        kind = event["type"]
        if kind == "cobrowse_navigate":
            navs = session.data["cobrowse_navs"]
            navs[event["nav_id"]] = {"url": event["url"], "title": event.get("title", "")}
            while len(navs) > 8:
                navs.pop(next(iter(navs)))
            session.send(event)
        elif kind == "cobrowse_control_request":
            visitor = await self.repo.get_visitor(session.identity)
            if not control_allowed(self.remote_control, visitor.current_url if visitor else None):
                return
            try:
                control.request(request_id=event["request_id"], agent_id=agent_id, share_request=share.request_id)
            except ControlError:
                return
            session.send(event)
        elif kind == "cobrowse_control_release":
            if control.state == ControlState.GRANTED:
                await self._ended(session, control, by="agent")
                session.send(OutCobrowseControlStateToCustomer().to_dict())
        elif kind == "cobrowse_input" and control.granted_to(agent_id, share):
            session.send(event)

    async def on_cobrowsenavigateanswer(self, session: Session,
                                        message: protocol.CobrowseNavigateAnswer) -> dict[str, Any]:
        nav = session.data["cobrowse_navs"].pop(message.nav_id, None)
        if nav is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such page was proposed to you")
        share: Share = session.data["cobrowse"]
        await self.bus.publish(frames_room(session.identity), OutCobrowseNavigateAnswer(
            visitor_id=session.identity, nav_id=message.nav_id, go=message.go, url=nav["url"]).to_dict())
        await self._timeline(session, "cobrowse_navigated", share.agent_id, {
            "url": nav["url"], "title": nav["title"], "went": message.go, "agent_name": share.agent_name})
        return {"url": nav["url"]}

    async def on_cobrowsecontrolanswer(self, session: Session,
                                       message: protocol.CobrowseControlAnswer) -> dict[str, Any]:
        share: Share = session.data["cobrowse"]
        control: Control = session.data["cobrowse_control"]
        if not share.sharing:
            raise ProtocolError(ErrorCode.INVALID_STATE, "you are not sharing your page")
        try:
            control.answer(message.request_id, accept=message.accept, now=self.clock())
        except ControlError as exc:
            raise refuse(exc) from None
        state = "granted" if message.accept else "refused"
        await self._announce(session, state, control.agent_id)
        await self._timeline(session, f"cobrowse_control_{state}", control.agent_id,
                             {"agent_name": share.agent_name})
        return {}

    async def on_cobrowsecontrolrevoke(self, session: Session, message: protocol.CobrowseControlRevoke) -> None:
        control: Control = session.data["cobrowse_control"]
        if control.state == ControlState.GRANTED:
            await self._ended(session, control, by="customer")
        elif control.state == ControlState.REQUESTED:
            control.revoke()

    async def on_cobrowsecontrolrefused(self, session: Session, message: protocol.CobrowseControlRefused) -> None:
        control: Control = session.data["cobrowse_control"]
        if control.state != ControlState.GRANTED:
            return
        await self.bus.publish(frames_room(session.identity), OutCobrowseControlRefused(
            visitor_id=session.identity, reason=message.reason).to_dict())

    async def _ended(self, session: Session, control: Control, *, by: str) -> None:
        agent_id = control.agent_id
        since = control.revoke()
        await self._announce(session, "revoked", agent_id, by=by)
        data: dict[str, Any] = {"by": by}
        if since is not None:
            data["duration"] = round(max(0.0, self.clock() - since), 1)
        await self._timeline(session, "cobrowse_control_ended", agent_id, data)

    async def _announce(self, session: Session, state: str, agent_id: str | None, **extra: Any) -> None:
        await self.bus.publish(frames_room(session.identity), OutCobrowseControlState(
            visitor_id=session.identity, state=state, agent_id=agent_id, at=self.clock(), **extra).to_dict())

    async def _timeline(self, session: Session, kind: str, agent_id: str | None, data: dict[str, Any]) -> None:
        try:
            await self.repo.add_contact_event(customer_id=session.data["customer_id"], kind=kind, channel="web",
                                              at=self.clock(), visitor_id=session.identity, agent_id=agent_id,
                                              data=data)
        except Exception:
            log.warning("could not write %s to the timeline", kind, exc_info=True)
