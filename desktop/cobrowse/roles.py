"""Which co-browse features each socket role gets, built from the settings, for ``desktop.app``."""

from __future__ import annotations

from typing import Any

from desktop.cobrowse.control import CustomerControl, ViewerControl
from desktop.cobrowse.documents import DocumentLibrary, LinkSigner
from desktop.cobrowse.feature import CustomerCobrowse
from desktop.cobrowse.session import ShareLimits
from desktop.cobrowse.viewer import ViewerCobrowse
from desktop.repository.repository import Repository
from signaling.bus import Bus

__all__ = ["cobrowse_features"]


def cobrowse_features(*, repo: Repository, bus: Bus, settings) -> dict[str, tuple[Any, ...]]:
    """The co-browse features of each socket role, for ``desktop.app``."""
    viewer = ViewerCobrowse(repo=repo, bus=bus, library=DocumentLibrary(settings.var_dir / "documents"),
                            links=LinkSigner(settings.secret_key))
    limits = ShareLimits.within_hub(messages_per_second=settings.messages_per_second,
                                    message_burst=settings.message_burst,
                                    max_message_bytes=settings.max_message_bytes)
    customer = CustomerCobrowse(repo=repo, bus=bus, secret_key=settings.secret_key, limits=limits, url_privacy={
        "query": settings.url_query, "params": list(settings.url_private_params)})
    sites = settings.cobrowse_remote_control
    customer.control = CustomerControl(repo=repo, bus=bus, remote_control=sites)
    agent_control = ViewerControl(repo=repo, bus=bus, remote_control=sites)
    return {"customer": (customer.control, customer), "agent": (viewer, agent_control), "supervisor": (viewer,)}
