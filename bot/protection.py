"""Nothing the bot puts in the committee group can be forwarded or saved.

The group may hold people who are not members, and a forwarded card leaves the group for
good. Telegram's ``protect_content`` stops forwarding and saving, but only on the message that
carries it, and the group receives messages from many places (the outbox's cards and
reminders, replies to commands typed there, whatever is added later). So the rule is applied
where every request passes, once: a wrapper around the rate limiter sets ``protect_content``
on each request to the group whose method takes it. Those methods are read from PTB's own
signatures, so a method Telegram adds is covered as soon as PTB has it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Bot
from telegram.ext import BaseRateLimiter

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]

# The Bot API methods that take protect_content: PTB's camelCase aliases are the endpoints.
PROTECTABLE = frozenset(
    name
    for name, method in inspect.getmembers(Bot, inspect.iscoroutinefunction)
    if "_" not in name and "protect_content" in inspect.signature(method).parameters
)


def _same_chat(value: object, chat_id: int) -> bool:
    return isinstance(value, int | str) and str(value) == str(chat_id)


class ProtectGroup(BaseRateLimiter[int]):
    """``inner``, with ``protect_content`` forced on every message sent to ``chat_id``."""

    def __init__(self, inner: BaseRateLimiter[int], chat_id: int | None) -> None:
        self.inner = inner
        self.chat_id = chat_id

    async def initialize(self) -> None:
        """Initialise the wrapped limiter."""
        await self.inner.initialize()

    async def shutdown(self) -> None:
        """Shut the wrapped limiter down."""
        await self.inner.shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        """Protect the request if it goes to the group, then hand it to the wrapped limiter.

        ``data`` is the request's own dict (the one in ``args``): changing it changes what
        is sent.
        """
        if (
            self.chat_id is not None
            and endpoint in PROTECTABLE
            and _same_chat(data.get("chat_id"), self.chat_id)
        ):
            data["protect_content"] = True
        return await self.inner.process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )
