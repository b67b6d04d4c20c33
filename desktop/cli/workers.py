"""One process of ``otodesk serve --workers N``.

uvicorn starts each worker as a fresh interpreter and imports :func:`app` there: the
settings come from the environment the parent was given (it wrote ``--host``/``--port``
into it). The workers meet on Redis like processes started one by one, so each needs an
id of its own.
"""

from __future__ import annotations

import dataclasses
import os

from starlette.applications import Starlette

from desktop.app import create_app
from desktop.cli.logs import configure_logging
from desktop.settings import Settings

__all__ = ["app"]


def app() -> Starlette:
    configure_logging(os.environ.get("OTODESK_LOG_FORMAT", "text"))
    settings = Settings.from_env()
    if os.environ.get("OTODESK_PROCESS_ID"):  # named by the operator: one name, N processes
        settings = dataclasses.replace(settings, process_id=f"{settings.process_id}-{os.getpid()}")
    return create_app(settings)
