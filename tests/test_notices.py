"""The outbox renderers are registered once per kind; the language cache stays bounded; a
failed progress edit is told apart from one worth making again."""

from __future__ import annotations

from functools import partial
from typing import Any, cast

import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError

from bot import notices
from bot.delivery import Delivery, Edited
from bot.kinds import Kind
from bot.people import PeopleService
from tests.conftest import Harness


def test_every_kind_has_one_renderer() -> None:
    assert set(notices.RENDERERS) == set(Kind)


async def test_the_running_worker_renders_every_kind(harness: Harness) -> None:
    assert harness.services.delivery.kinds == set(Kind)


async def test_a_second_renderer_for_a_kind_is_refused(harness: Harness) -> None:
    delivery = Delivery(harness.services.db, cast(Bot, EditingBot(None)), harness.services.ids)
    sources = cast(notices.Sources, None)
    notices.register(delivery, sources)
    with pytest.raises(ValueError, match="task_offer"):
        delivery.register(Kind.TASK_OFFER, partial(notices.task_offer, sources))


async def test_the_language_cache_is_bounded_and_falls_back_to_storage(harness: Harness) -> None:
    people = PeopleService(harness.services.db, harness.services.ids, cache_size=3)
    for user_id in range(1, 6):
        await people.set_language(user_id, "en" if user_id % 2 else "ar")
    assert sorted(people.cache) == [3, 4, 5]
    assert people.cached(1) is None
    assert await people.language(1) == "en"  # read again from the database
    assert sorted(people.cache) == [1, 4, 5]  # 3 was the least recently used


async def test_remember_keeps_a_known_language_and_forget_drops_it(harness: Harness) -> None:
    people = PeopleService(harness.services.db, harness.services.ids)
    await people.set_language(7, "ar")
    people.remember(7, "en")
    assert await people.language(7) == "ar"
    people.remember(8, "en")
    assert people.cached(8) == "en"
    people.forget(7)
    assert people.cached(7) is None
    assert await people.language(None) is None


class EditingBot:
    """Answers edits with a chosen error."""

    def __init__(self, error: Exception | None) -> None:
        self.error = error

    async def edit_message_text(self, text: str, **kwargs: Any) -> None:
        if self.error is not None:
            raise self.error


@pytest.mark.parametrize(
    ("error", "edited"),
    [
        (None, Edited()),
        (BadRequest("Message to edit not found"), Edited("BadRequest")),
        (NetworkError("connection reset"), Edited("NetworkError", final=False)),
    ],
)
async def test_an_edit_says_whether_to_try_again(
    harness: Harness, error: Exception | None, edited: Edited
) -> None:
    delivery = Delivery(harness.services.db, cast(Bot, EditingBot(error)), harness.services.ids)
    assert await delivery.edit(1, 2, "Task T-1: sent 1 of 2…") == edited
