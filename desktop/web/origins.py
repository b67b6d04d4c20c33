"""Which other sites' pages may use the widget, as the console says now.

The list is the console's (``desktop/leader/live_centre.py``), read at every request, so a
site an admin adds is served at once and one removed is refused at once, on every process;
``OTODESK_ALLOWED_ORIGINS`` until an admin first saves it. The same list decides the
websocket's origin check (``signaling/hub.py``), CORS for the widget's HTTP calls (here) and
the knowledge base's guard (``desktop/web/kb_widget.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp

from signaling.hub import origin_allowed

__all__ = ["LiveCorsMiddleware", "allowed_origins", "site_allowed"]


def allowed_origins(state) -> tuple[str, ...]:
    """The sites allowed now: the console's once the app has started, else the setting's."""
    centre = getattr(state, "centre", None)
    return centre.origins() if centre is not None else state.settings.allowed_origins


def site_allowed(request: HTTPConnection) -> bool:
    """The request comes from no page, the centre's own, or a site allowed now."""
    state = request.app.state
    return origin_allowed(request.headers.get("origin"), request.headers.get("host"),
                          allowed_origins(state), state.settings.public_origins)


class LiveCorsMiddleware(CORSMiddleware):
    """Starlette's CORS, with the allowed origins asked of ``origins()`` at each request."""

    def __init__(self, app: ASGIApp, *, origins: Callable[[], Collection[str]], **options) -> None:
        super().__init__(app, allow_origins=(), **options)
        self._origins = origins

    def is_allowed_origin(self, origin: str) -> bool:
        origins = self._origins()
        return origin in origins or "*" in origins
