"""The supervisor's figures: service level, abandon rate, speed of answer, handle times."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.engine import Connection

from desktop.repository._store import CALLBACKS, Store
from desktop.repository.records import QueueDayStats
from desktop.routing.events import CallbackState, Channel

__all__ = ["Stats"]

_GAVE_UP = [CallbackState.ABANDONED.value, CallbackState.CANCELLED.value]


class Stats(Store):
    async def queue_day_stats(
        self, *, since: float, targets: Mapping[str, float]
    ) -> dict[str, QueueDayStats]:
        """Figures for the callbacks that entered each queue at or after ``since``.

        ``targets`` maps a queue to its service-level target in seconds: an
        answer within it (``answered_at - enqueued_at <= target``) counts
        toward the service level. Every queue in ``targets`` is in the result,
        in that order (zeros if quiet), then any other queue with callbacks,
        by name, whose service level is ``None`` for want of a target. One query.
        """
        rows = await self._db.read(_queue_day_rows, since, dict(targets))
        order = [*targets, *sorted(rows.keys() - targets.keys())]
        return {queue: _day_stats(queue, rows.get(queue), targets.get(queue)) for queue in order}

    async def recent_handle_times(self, queue: str, *, limit: int = 20) -> list[float]:
        """Seconds from answer to end of the queue's latest completed callbacks, newest first."""
        return await self._db.read(_recent_handle_times, queue, limit)


def _queue_day_rows(conn: Connection, since: float, targets: dict[str, float]) -> dict[str, Any]:
    c = CALLBACKS.c
    wait = c.answered_at - c.enqueued_at
    target: Any = literal(None)
    if targets:
        target = case(
            *((c.queue == queue, literal(float(seconds))) for queue, seconds in targets.items()),
            else_=None,
        )
    statement = (
        select(
            c.queue,
            # A call turned away while the queue was closed never entered it.
            func.sum(case((c.state != CallbackState.CLOSED.value, 1), else_=0)).label("offered"),
            func.count(c.answered_at).label("answered"),
            func.sum(case((wait <= target, 1), else_=0)).label("within"),
            func.sum(case((c.state.in_(_GAVE_UP), 1), else_=0)).label("gave_up"),
            func.avg(wait).label("asa"),
            func.sum(case(((c.channel == Channel.PHONE_INBOUND.value) & (c.state != CallbackState.CLOSED.value), 1),
                          else_=0)).label("inbound"),
        )
        .where(c.enqueued_at >= since)
        .group_by(c.queue)
    )
    return {row.queue: row for row in conn.execute(statement)}


def _day_stats(queue: str, row: Any, target: float | None) -> QueueDayStats:
    if row is None:
        return QueueDayStats(
            queue=queue, offered=0, answered=0, answered_within_target=0, abandoned=0,
            avg_speed_of_answer=None, service_level=None, abandon_rate=None,
        )
    offered, within, gave_up = int(row.offered or 0), int(row.within or 0), int(row.gave_up or 0)
    return QueueDayStats(
        queue=queue,
        offered=offered,
        answered=int(row.answered),
        answered_within_target=within,
        abandoned=gave_up,
        avg_speed_of_answer=float(row.asa) if row.asa is not None else None,
        service_level=within / offered if target is not None and offered else None,
        abandon_rate=gave_up / offered if offered else None,
        inbound=int(row.inbound or 0),
    )


def _recent_handle_times(conn: Connection, queue: str, limit: int) -> list[float]:
    c = CALLBACKS.c
    rows = conn.execute(
        select((c.ended_at - c.answered_at).label("handle"))
        .where(
            c.queue == queue,
            c.state == CallbackState.COMPLETED.value,
            c.answered_at.is_not(None),
            c.ended_at.is_not(None),
        )
        .order_by(c.ended_at.desc()).limit(limit)
    )
    return [float(row.handle) for row in rows]
