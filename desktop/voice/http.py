"""Voice over HTTP: a call's recording, played in the desk to staff signed in."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from desktop.auth.staff import StaffRefused, StaffSession, staff_only

__all__ = ["recording_url", "routes"]


def recording_url(callback_id: str) -> str:
    return f"/voice/recordings/{callback_id}.ogg"


def _refused(request: Request, refusal: StaffRefused) -> Response:
    return PlainTextResponse("log in first", status_code=401)


@staff_only(refused=_refused)
async def recording(request: Request, session: StaffSession) -> Response:
    """A call's recording, for staff signed in (agents, supervisors)."""
    callback_id = request.path_params["callback_id"]
    if not callback_id.isalnum():
        return PlainTextResponse("no such recording", status_code=404)
    path = Path(request.app.state.settings.var_dir) / "recordings" / f"{callback_id}.ogg"
    if not path.is_file():  # never made, or deleted by retention or erasure
        return PlainTextResponse("this recording is not kept (any more)", status_code=404)
    return FileResponse(path, media_type="audio/ogg")


routes = [Route("/voice/recordings/{callback_id}.ogg", recording)]
