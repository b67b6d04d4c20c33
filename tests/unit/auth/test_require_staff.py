"""The one staff check (desktop/auth/staff.py): a live session, a role, the CSRF header when
asked; and the endpoint decorator built on it. The repository is a two-method stand-in (the
live-session rows are tested in tests/integration/test_staff_sessions.py); the signer is real."""

from __future__ import annotations

import types

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from desktop.auth.agents import SUPERVISOR_ROLES
from desktop.auth.staff import (
    BadCsrf, NotAllowed, NotSignedIn, StaffRefused, StaffSession, current_agent, require_staff, staff_only,
)
from desktop.auth.tokens import SESSION_COOKIE, Signer

SIGNER = Signer("test-secret")


class Sessions:
    """The repository's two reads behind a staff session: the live row and the agent."""

    def __init__(self) -> None:
        self.live = {"sid-agent": "a1", "sid-boss": "s1"}
        self.agents = {"a1": types.SimpleNamespace(id="a1", role="agent", skills=(), disabled_at=None),
                       "s1": types.SimpleNamespace(id="s1", role="supervisor", skills=(), disabled_at=None)}

    async def staff_session_agent(self, session_id: str, *, now: float) -> str | None:
        return self.live.get(session_id)

    async def get_agent(self, agent_id: str):
        return self.agents.get(agent_id)


def request(*, agent: str | None = None, sid: str | None = None, csrf: str | None = None,
            repo: Sessions | None = None) -> Request:
    headers = []
    if agent is not None:
        headers.append((b"cookie", f"{SESSION_COOKIE}={SIGNER.session_token(agent, sid)}".encode()))
    if csrf is not None:
        headers.append((b"x-csrf-token", csrf.encode()))
    app = types.SimpleNamespace(state=types.SimpleNamespace(signer=SIGNER, repo=repo or Sessions()))
    return Request({"type": "http", "method": "POST", "path": "/x", "headers": headers, "app": app})


async def test_a_live_session_of_an_allowed_role_passes():
    session = await require_staff(request(agent="s1", sid="sid-boss"), roles=SUPERVISOR_ROLES)
    assert session.agent.id == "s1" and session.session_id == "sid-boss"
    assert (await current_agent(request(agent="a1", sid="sid-agent"))).id == "a1"


async def test_no_cookie_a_forged_one_or_a_signed_out_session_is_not_signed_in():
    repo = Sessions()
    del repo.live["sid-agent"]  # signed out: the signature alone is no session
    for refused in (request(), request(agent="a1", sid="sid-agent", repo=repo),
                    request(agent="s1", sid="sid-agent")):  # a session of another agent
        with pytest.raises(NotSignedIn):
            await require_staff(refused)
        assert await current_agent(refused) is None


async def test_another_role_is_not_allowed_and_says_whose_it_is():
    with pytest.raises(NotAllowed, match="supervisor and admin roles, not agent") as refused:
        await require_staff(request(agent="a1", sid="sid-agent"), roles=SUPERVISOR_ROLES)
    assert refused.value.session.agent.id == "a1"
    assert isinstance(refused.value, PermissionError)


async def test_csrf_is_checked_only_when_asked_and_bound_to_the_session():
    good = SIGNER.csrf_token("sid-agent")
    assert await require_staff(request(agent="a1", sid="sid-agent", csrf=good), csrf=True)
    assert await require_staff(request(agent="a1", sid="sid-agent"))
    for token in (None, "wrong", SIGNER.csrf_token("sid-boss")):
        with pytest.raises(BadCsrf):
            await require_staff(request(agent="a1", sid="sid-agent", csrf=token), csrf=True)


async def test_the_decorator_runs_the_handler_for_staff_and_refused_for_the_others():
    seen: list[StaffRefused] = []

    def refused(req: Request, refusal: StaffRefused) -> Response:
        seen.append(refusal)
        return PlainTextResponse("no", status_code=403)

    @staff_only(roles=SUPERVISOR_ROLES, refused=refused)
    async def wall_page(req: Request, session: StaffSession) -> Response:
        return PlainTextResponse(session.agent.id)

    assert wall_page.__name__ == "wall_page"  # Starlette names the route after it
    assert (await wall_page(request(agent="s1", sid="sid-boss"))).body == b"s1"
    assert (await wall_page(request(agent="a1", sid="sid-agent"))).status_code == 403
    assert (await wall_page(request())).status_code == 403
    assert [type(r) for r in seen] == [NotAllowed, NotSignedIn]
