"""The sender: every process claims due deliveries from the database and POSTs them.

At least once: a delivery is marked delivered only after a 2xx was received, so a process
killed between the receiver's 2xx and that write sends it again after its lease (receivers
dedupe by the event id). Rows live in the database, so nothing is lost across restarts;
the lease (a conditional UPDATE) keeps two processes from sending one row at once, and the
repository only hands out the first pending delivery of each callback for a subscription,
so a callback's events arrive in order, each after the previous one succeeded.

Redirects are not followed (a 3xx is a failure: the receiver's URL should be the final
one); the response body is not read. Each attempt is logged with its status code or
error and its duration (seconds).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import msgspec

from desktop.webhooks.backoff import next_attempt_at
from desktop.webhooks.signing import HEADER, signature_header
from desktop.webhooks.targets import TargetRefused, check_resolved

__all__ = ["WebhookSender", "payload"]

log = logging.getLogger(__name__)

#: Deliveries claimed at once; different callbacks' are sent concurrently.
BATCH = 20


def payload(event_id: str, type: str, at: float, data: dict[str, Any]) -> bytes:
    """The body of a delivery: ``{"id", "type", "created_at", "time", "data"}`` as JSON."""
    time_text = datetime.datetime.fromtimestamp(at, datetime.UTC).isoformat(timespec="milliseconds")
    return msgspec.json.encode({"id": event_id, "type": type, "created_at": at,
                                "time": time_text.replace("+00:00", "Z"), "data": data})


class WebhookSender:
    def __init__(self, repo, *, timeout: float = 10.0, poll: float = 1.0, backoff_base: float = 10.0,
                 backoff_cap: float = 6 * 3600.0, max_attempts: int = 15, allow_private: bool = False,
                 clock: Callable[[], float] = time.time, transport: httpx.AsyncBaseTransport | None = None) -> None:
        """``timeout``: seconds a receiver has to answer; ``poll``: seconds between looks at
        the table when there was nothing to send."""
        self.repo = repo
        self.timeout, self.poll = timeout, poll
        self.backoff_base, self.backoff_cap, self.max_attempts = backoff_base, backoff_cap, max_attempts
        self.allow_private = allow_private
        self.clock = clock
        # Longer than any one attempt can take, so a live sender never loses its row.
        self.lease = timeout * 2 + 30.0
        self._transport = transport

    @classmethod
    def from_settings(cls, repo, settings) -> WebhookSender:
        return cls(repo, timeout=settings.webhook_timeout, poll=settings.webhook_poll,
                   backoff_base=settings.webhook_backoff, backoff_cap=settings.webhook_backoff_cap,
                   max_attempts=settings.webhook_max_attempts, allow_private=settings.webhook_allow_private)

    async def run(self) -> None:
        """Send until cancelled; a database that fails is logged and tried again."""
        async with httpx.AsyncClient(timeout=httpx.Timeout(self.timeout), follow_redirects=False,
                                     transport=self._transport,
                                     headers={"User-Agent": "otodesk-webhooks/1"}) as client:
            while True:
                try:
                    sent = await self.run_once(client)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("webhook deliveries not sent; trying again")
                    sent = 0
                if not sent:
                    await asyncio.sleep(self.poll)

    async def run_once(self, client: httpx.AsyncClient) -> int:
        """Claim what is due and send it; how many were tried."""
        batch = await self.repo.claim_webhook_deliveries(now=self.clock(), lease=self.lease, limit=BATCH)
        await asyncio.gather(*(self._send(client, delivery) for delivery in batch))
        return len(batch)

    async def _send(self, client: httpx.AsyncClient, delivery: dict[str, Any]) -> None:
        attempt = delivery["attempts"] + 1
        body = payload(delivery["event_id"], delivery["type"], delivery["at"], delivery["data"])
        started = self.clock()
        status: int | None = None
        error: str | None = None
        try:
            await check_resolved(delivery["url"], allow_private=self.allow_private)
            request = client.build_request("POST", delivery["url"], content=body, headers={
                "Content-Type": "application/json",
                HEADER: signature_header(delivery["secret"], int(started), body,
                                         previous=delivery.get("previous_secret")),
                "Otodesk-Event-Id": delivery["event_id"], "Otodesk-Event-Type": delivery["type"],
                "Otodesk-Delivery-Id": str(delivery["id"]), "Otodesk-Attempt": str(attempt)})
            response = await client.send(request, stream=True)
            await response.aclose()  # the body is not ours to read
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except TargetRefused as exc:
            error = f"refused: {exc}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
        finished = self.clock()
        next_at = None if error is None else next_attempt_at(
            attempt, finished, base=self.backoff_base, cap=self.backoff_cap, max_attempts=self.max_attempts)
        if error is not None:
            log.info("webhook delivery %s (%s) attempt %d failed: %s", delivery["id"], delivery["type"],
                     attempt, error)
        await self.repo.finish_webhook_attempt(delivery["id"], attempt=attempt, at=finished,
                                               duration=round(finished - started, 4),
                                               status_code=status, error=error, next_at=next_at)
