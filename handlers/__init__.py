"""The one ordered handler registry. Order matters: the first matching handler in a group wins.

Group -3 drops an update delivered twice; group -2 loads the person for every update; group -1
slows down a person who floods the bot; group 0 holds everything else, most specific first,
with catch-alls at the end so that every message and every button gets an answer. The commands
come from the one command table (handlers/commands.py), which also makes the menus and /help.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.context import SanadContext
from handlers import (
    cards,
    commands,
    committee,
    common,
    decisions,
    form_walk,
    intake,
    privacy,
    questions,
    reports,
    sessions,
    task_wizard,
    tasks,
    volunteers,
)
from handlers.util import private_button

PRIVATE = filters.ChatType.PRIVATE
NEW_MESSAGE = filters.UpdateType.MESSAGE


async def private_message(update: Update, context: SanadContext) -> None:
    """Anything sent in private that is not a command: a pending interaction, else the intake."""
    if not await sessions.route_session(update, context):
        await form_walk.form_message(update, context)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register every handler of the bot, in order."""
    app.add_handler(TypeHandler(Update, common.drop_repeats), group=-3)
    app.add_handler(TypeHandler(Update, common.load_person), group=-2)
    app.add_handler(TypeHandler(Update, common.flood_gate), group=-1)
    app.bot_data[common.HELP_LINES] = commands.help_lines
    handlers = [
        *commands.handlers(),
        CallbackQueryHandler(private_button(common.language_chosen), pattern=r"^lang:"),
        CallbackQueryHandler(private_button(intake.consent_choice), pattern=r"^ic:"),
        CallbackQueryHandler(private_button(intake.apply_choice), pattern=r"^ap:"),
        CallbackQueryHandler(private_button(form_walk.cancel_choice), pattern=r"^cx:"),
        CallbackQueryHandler(private_button(form_walk.form_button), pattern=r"^in:"),
        CallbackQueryHandler(private_button(volunteers.volunteer_button), pattern=r"^vo:"),
        CallbackQueryHandler(private_button(tasks.task_answer), pattern=r"^tk:"),
        CallbackQueryHandler(private_button(privacy.delete_button), pattern=r"^pd:"),
        CallbackQueryHandler(task_wizard.task_button, pattern=r"^tw:"),
        CallbackQueryHandler(tasks.manage_button, pattern=r"^tm:"),
        CallbackQueryHandler(committee.details_button, pattern=r"^cd:"),
        CallbackQueryHandler(cards.card_action, pattern=r"^cv:"),
        CallbackQueryHandler(decisions.wizard_button, pattern=r"^rv:"),
        CallbackQueryHandler(private_button(questions.answer_button), pattern=r"^fa:"),
        CallbackQueryHandler(reports.cases_button, pattern=r"^cl:"),
        CallbackQueryHandler(reports.export_button, pattern=r"^ex:"),
        CallbackQueryHandler(common.stale_button),
        MessageHandler(PRIVATE & NEW_MESSAGE & filters.COMMAND, common.unknown_command),
        MessageHandler(PRIVATE & NEW_MESSAGE, private_message),
        MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, common.edited_message),
    ]
    handlers.append(ChatMemberHandler(common.membership, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handlers(handlers)
    app.add_error_handler(common.error_handler)
