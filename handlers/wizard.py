"""Wizards declared as step tables, like the forms: each step has its screen, the buttons it
takes and what a typed text does.

The step a person is at lives in their session (handlers/sessions.py). A press or a text is
looked up in the current step's table; one that the step does not take is stale (an old
message's button, a forged press) and is refused by the caller, in the wizard's own words.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.buttons import CallbackData
from bot.context import SanadContext
from bot.i18n import Translator
from bot.render import bold
from handlers.sessions import (
    close_screen,
    forget_session,
    load_session,
    remember_screen,
    save_session,
)
from handlers.util import close_buttons, reply, stale

Session = dict[str, Any]
Rows = list[list[InlineKeyboardButton]]
# A step's screen: its lines of text and its rows of buttons.
Parts = tuple[list[str], Rows]
Screen = Callable[[Translator, SanadContext, Session], Parts]
# What a press does with the button's argument, or a text with what was typed.
Action = Callable[[Update, SanadContext, Session, str], Awaitable["Outcome"]]


class Outcome(Enum):
    """What the caller does after a step's action."""

    MOVED = "moved"  # the session changed: store it, then show where it is now
    DONE = "done"  # the action answered the person itself (a finish, a problem explained)
    STALE = "stale"  # not something this step takes


@dataclass(frozen=True)
class WizardStep:
    """One step: its screen (lines and button rows), its buttons by verb, its typed answer."""

    screen: Screen
    buttons: Mapping[str, Action] = field(default_factory=dict)
    text: Action | None = None


@dataclass(frozen=True)
class Wizard:
    """A wizard's steps by name."""

    steps: Mapping[str, WizardStep]

    def screen(
        self, t: Translator, context: SanadContext, session: Session, title: str
    ) -> tuple[str, InlineKeyboardMarkup]:
        """The current step under the wizard's title, with its buttons."""
        lines, rows = self.steps[session["step"]].screen(t, context, session)
        return "\n\n".join([bold(title), *lines]), InlineKeyboardMarkup(rows)

    async def press(
        self, update: Update, context: SanadContext, session: Session, verb: str, arg: str
    ) -> Outcome:
        """Apply a button of the current step."""
        step = self.steps.get(session["step"])
        action = None if step is None else step.buttons.get(verb)
        return Outcome.STALE if action is None else await action(update, context, session, arg)

    async def typed(
        self, update: Update, context: SanadContext, session: Session, text: str
    ) -> Outcome:
        """Apply a typed answer to the current step."""
        step = self.steps.get(session["step"])
        action = None if step is None else step.text
        return Outcome.STALE if action is None else await action(update, context, session, text)


# A wizard's button family, made from its verb and argument.
WizardButtons = Callable[[str, str], CallbackData]


def cancel_button(t: Translator, family: WizardButtons) -> InlineKeyboardButton:
    """The Cancel button every wizard screen carries: <prefix>:x:."""
    return family("x", "").button(t.raw("✖️ Cancel"))


# A wizard's current screen, under its title: what the driver sends after each step.
ShowScreen = Callable[[Translator, SanadContext, Session], tuple[str, InlineKeyboardMarkup]]


async def drive_press(
    update: Update,
    context: SanadContext,
    wizard: Wizard,
    kind: str,
    show: ShowScreen,
    verb: str,
    arg: str,
) -> None:
    """A button of a wizard kept in the member's session (of ``kind``): Cancel ends it, a
    step's button moves it on (the pressed screen loses its buttons and the next is sent),
    anything else is a stale press, refused. Every screen's message id is remembered, so a
    step answered by typing closes it too."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    t = context.t
    session = await load_session(context, user.id)
    if session is None or session.get("kind") != kind:
        await stale(query, t)
        return
    if verb == "x":
        await forget_session(context, user.id)
        await query.answer(t.raw("Cancelled: nothing was changed."))
        await close_buttons(query)
        return
    outcome = await wizard.press(update, context, session, verb, arg)
    if outcome is Outcome.STALE:
        await stale(query, t)
    elif outcome is Outcome.MOVED:
        await save_session(context, user.id, session)
        await query.answer()
        await close_buttons(query)
        text, markup = show(t, context, session)
        sent = await reply(update, text, reply_markup=markup)
        await remember_screen(context, user.id, session, sent)


async def drive_text(
    update: Update, context: SanadContext, wizard: Wizard, session: Session, show: ShowScreen
) -> None:
    """A typed answer to a wizard's current step: the next screen is sent and the one
    answered loses its buttons; a text the step does not take gets a short reminder."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    t = context.t
    if message.text is None:
        await reply(update, t.raw("Please type your answer."))
        return
    outcome = await wizard.typed(update, context, session, message.text)
    if outcome is Outcome.STALE:
        await reply(update, t.raw("Please use the buttons of the last message, or press Cancel."))
    elif outcome is Outcome.MOVED:
        await save_session(context, user.id, session)
        close_screen(update, context, session)
        text, markup = show(t, context, session)
        await remember_screen(
            context, user.id, session, await reply(update, text, reply_markup=markup)
        )
