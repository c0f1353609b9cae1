"""A person's pending interaction (a wizard, a question waiting for its answer) and its routing.

The session is one encrypted row per person, saved after every step, so a restart in the middle
loses nothing. Each kind of session is handled by the module that starts it: that module
registers its typed-message handler with :func:`route`, and :func:`route_session` dispatches
through the registry, so this module never needs to know the wizards.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import Message, Update

from bot.context import SanadContext
from handlers.members import is_member

Session = dict[str, Any]
SessionHandler = Callable[[Update, SanadContext, Session], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    """Who handles a typed message for a kind of session, and whether only members may."""

    handle: SessionHandler
    members_only: bool


ROUTES: dict[str, Route] = {}


def route(*kinds: str, members_only: bool = True) -> Callable[[SessionHandler], SessionHandler]:
    """Register the decorated function as the handler of typed messages for ``kinds``."""

    def register(handler: SessionHandler) -> SessionHandler:
        for kind in kinds:
            if kind in ROUTES:
                raise ValueError(f"session kind {kind!r} is routed twice")
            ROUTES[kind] = Route(handler, members_only)
        return handler

    return register


async def remember_screen(
    context: SanadContext, user_id: int, session: Session, sent: Message | None
) -> None:
    """Keep the message id of the wizard's screen just sent, so that the step answered next
    (by typing) can take its buttons off: the chat never holds two live screens."""
    if sent is not None:
        session["screen"] = sent.message_id
        await save_session(context, user_id, session)


def close_screen(update: Update, context: SanadContext, session: Session) -> None:
    """Take the buttons off the wizard's last screen, answered by typing, in the background
    (tidying gives way to replies). A pressed screen is closed by its press instead."""
    shown, chat = session.get("screen"), update.effective_chat
    if not shown or chat is None or update.callback_query is not None:
        return
    bot, chat_id = update.get_bot(), chat.id

    async def close() -> None:
        await bot.edit_message_reply_markup(chat_id, shown, reply_markup=None)

    context.services.delivery.tidy(close())


async def load_session(context: SanadContext, user_id: int) -> Session | None:
    """The person's pending interaction, if any."""
    return await context.services.sessions.load(user_id)


async def save_session(context: SanadContext, user_id: int, session: Session) -> None:
    """Store the pending interaction durably."""
    await context.services.sessions.save(user_id, session)


async def forget_session(context: SanadContext, user_id: int) -> None:
    """Drop the pending interaction on its own (cancelled, or its case or task is gone).

    An interaction that completes ends in the transaction of its result instead (the
    services' ``ends_session``), so a crash never keeps a wizard whose result is stored.
    """
    await context.services.sessions.end(user_id)


async def route_session(update: Update, context: SanadContext) -> bool:
    """Give a private message to the person's pending interaction; False if there is none.

    A member's session met by someone who is no longer a member, or a session of a kind no
    module handles, is dropped, and the message goes on to the intake.
    """
    if update.effective_user is None:
        return False
    user_id = update.effective_user.id
    session = await load_session(context, user_id)
    if session is None:
        return False
    target = ROUTES.get(str(session.get("kind")))
    if target is None or (target.members_only and not is_member(update, context)):
        await forget_session(context, user_id)
        return False
    await target.handle(update, context, session)
    return True
