"""Concurrent update processing that keeps each person's updates in order.

Different people are served at the same time; two updates from the same person (a button
pressed twice quickly, a message sent while the previous one is being answered) are handled
one after the other, so the second sees what the first saved.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.limits import FloodGate, Verdict


def update_key(update: object) -> int | None:
    """The person (or chat) whose updates must not overlap."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    return update.effective_chat.id if update.effective_chat is not None else None


def flood_gated(update: object) -> bool:
    """Whether the flood gate judges this update: what a person sends (messages, edits,
    button taps), not membership changes, which must always be recorded."""
    return isinstance(update, Update) and (
        update.message is not None
        or update.edited_message is not None
        or update.callback_query is not None
    )


class PerPersonProcessor(BaseUpdateProcessor):
    """Processes up to ``max_concurrent_updates`` at once, one at a time per person."""

    def __init__(self, max_concurrent_updates: int = 256, gate: FloodGate | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self.gate = gate
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run ``coroutine`` once no other update of the same person is running.

        The flood gate judges the update here, before it waits for the person's earlier
        ones: what counts is how fast the person sends, not how fast the bot answers. An update
        over the limit does not wait either: the handlers only tell the person to slow down
        (see ``handlers.common.flood_gate``). Only updates the gate let through wait for the
        person's lock while holding one of the ``max_concurrent_updates`` slots, so one
        person holds at most about ``burst`` of them (``process_update``, which takes the
        slot, is final in PTB: the gate cannot run before it).
        """
        key = update_key(update)
        if key is None:
            await coroutine
            return
        if (
            self.gate is not None
            and isinstance(update, Update)
            and flood_gated(update)
            and self.gate.admit(update.update_id, key) is not Verdict.ALLOW
        ):
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
