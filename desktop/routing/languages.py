"""Which queue serves a customer's language, when the site named none (pure).

A queue lists the languages its agents speak (BCP 47 tags, set in the admin console). The
first queue, in the order the widget lists them, speaking the customer's language exactly
("zh-CN") is chosen, else the first speaking the same language ("zh-HK" → a "zh-TW" queue),
else none. The widget makes the same choice for its form (static/widget/queue_choice.js).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

__all__ = ["queue_for_language"]


class _Queue(Protocol):
    name: str
    languages: tuple[str, ...]


def queue_for_language(queues: Iterable[_Queue], locale: str | None) -> str | None:
    """The name of the queue for ``locale`` (None: no locale, or no queue speaks it)."""
    if not locale:
        return None
    queues = list(queues)
    wanted = locale.lower()
    for same in (lambda tag: tag.lower() == wanted,
                 lambda tag: tag.lower().split("-")[0] == wanted.split("-")[0]):
        for queue in queues:
            if any(same(tag) for tag in queue.languages):
                return queue.name
    return None
