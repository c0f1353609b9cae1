"""Telegram's flood limits, for the HTTP fake: who may send how much, and how long to wait.

Off by default; a test or benchmark that measures how the bot paces a broadcast turns them on
and gets 429 ``retry_after`` answers where Telegram would give them.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from tests.fakes.objects import ChatKey


@dataclass(frozen=True)
class RateLimits:
    """Telegram's documented broadcast limits (https://core.telegram.org/bots/faq)."""

    per_second: int = 30
    """Messages per second for the whole bot (sliding one-second window)."""
    chat_burst: int = 3
    """Messages a private chat accepts at once (token bucket capacity)."""
    chat_per_second: float = 1.0
    """Sustained messages per second to one private chat (token bucket refill rate)."""
    group_per_minute: int = 20
    """Messages per minute to one group, supergroup or channel (sliding window)."""


class Limiter:
    """Grants message slots under :class:`RateLimits`; answers how long to wait otherwise."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        """Count against ``limits``, in seconds of ``clock``."""
        self.limits = limits
        self._clock = clock
        self._recent: deque[float] = deque()
        self._buckets: dict[ChatKey, tuple[float, float]] = {}
        self._groups: dict[ChatKey, deque[float]] = {}

    def acquire(self, chat: ChatKey | None) -> int | None:
        """Take a slot for a message to ``chat``: None if granted, else ``retry_after``."""
        now = self._clock()
        limits = self.limits
        waits: list[float] = []
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()
        if len(self._recent) >= limits.per_second:
            waits.append(self._recent[0] + 1.0 - now)

        tokens: float | None = None
        window: deque[float] | None = None
        if isinstance(chat, int) and chat > 0:
            tokens, last = self._buckets.get(chat, (float(limits.chat_burst), now))
            tokens = min(float(limits.chat_burst), tokens + (now - last) * limits.chat_per_second)
            if tokens < 1.0:
                waits.append((1.0 - tokens) / limits.chat_per_second)
        elif chat is not None:
            window = self._groups.setdefault(chat, deque())
            while window and window[0] <= now - 60.0:
                window.popleft()
            if len(window) >= limits.group_per_minute:
                waits.append(window[0] + 60.0 - now)

        granted = not waits
        if granted:
            self._recent.append(now)
            if window is not None:
                window.append(now)
        if tokens is not None and chat is not None:
            self._buckets[chat] = (tokens - 1.0 if granted else tokens, now)
        return None if granted else max(1, math.ceil(max(waits)))
