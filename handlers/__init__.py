"""The one ordered handler registry. Order matters: the first matching handler in a group wins.

Group -3 drops an update delivered twice; group -2 loads the person for every update; group -1
slows down a person who floods the bot; group 0 holds everything else, most specific first,
with catch-alls at the end so that every message and every button gets an answer. The commands
come from the one command table (handlers/commands.py), which also makes the menus and /help.
Each button family (bot/buttons.py) is routed by its own pattern to one handler: the family's
and the wizards' through :func:`private_button`, which unpacks the data for the handler; the
committee's to handlers that authorise and unpack with ``members.member_press``.
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

from bot import buttons as b
from bot.context import SanadContext
from handlers import (
    activities,
    activity_wizard,
    assign,
    cards,
    commands,
    committee,
    common,
    decisions,
    duplicates,
    feedback,
    followup,
    form_walk,
    intake,
    menus,
    privacy,
    questions,
    reports,
    sessions,
    support,
    task_wizard,
    tasks,
    vetting,
    volunteers,
)
from handlers.util import Callback, D, Pressed, private_button

PRIVATE = filters.ChatType.PRIVATE
NEW_MESSAGE = filters.UpdateType.MESSAGE


async def private_message(update: Update, context: SanadContext) -> None:
    """Anything sent in private that is not a command: a pending interaction, else the intake."""
    if not await sessions.route_session(update, context):
        await form_walk.form_message(update, context)


def private_press(family: type[D], handler: Pressed[D]) -> CallbackQueryHandler[Any, None]:
    """A family's presses, accepted in the presser's own private chat and unpacked."""
    return CallbackQueryHandler(private_button(family, handler), pattern=family.pattern())


def committee_press(
    family: type[b.CallbackData], handler: Callback
) -> CallbackQueryHandler[Any, None]:
    """A committee family's presses; the handler authorises the member and unpacks."""
    return CallbackQueryHandler(handler, pattern=family.pattern())


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register every handler of the bot, in order."""
    app.add_handler(TypeHandler(Update, common.drop_repeats), group=-3)
    app.add_handler(TypeHandler(Update, common.load_person), group=-2)
    app.add_handler(TypeHandler(Update, common.flood_gate), group=-1)
    app.bot_data[common.HELP_LINES] = commands.help_lines
    app.bot_data[menus.MENUS] = commands.personal_menu
    handlers = [
        *commands.handlers(),
        private_press(b.LanguageChoice, common.language_chosen),
        private_press(b.ConsentChoice, intake.consent_choice),
        private_press(b.ApplyChoice, intake.apply_choice),
        private_press(b.CancelChoice, form_walk.cancel_choice),
        private_press(b.FormPress, form_walk.form_button),
        private_press(b.VolunteerPress, volunteers.volunteer_button),
        private_press(b.TaskAnswer, tasks.task_answer),
        private_press(b.EraseChoice, privacy.delete_button),
        committee_press(b.TaskWizardPress, task_wizard.task_button),
        committee_press(b.TaskManagePress, tasks.manage_button),
        committee_press(b.DetailsPress, committee.details_button),
        committee_press(b.CardPress, cards.card_action),
        committee_press(b.DecisionPress, decisions.wizard_button),
        private_press(b.FamilyAnswerPress, questions.answer_button),
        committee_press(b.CasesPage, reports.cases_button),
        committee_press(b.ExportChoice, reports.export_button),
        committee_press(b.VettingPress, vetting.vetting_button),
        committee_press(b.SupportPress, support.support_button),
        private_press(b.ReceiptPress, support.receipt_button),
        committee_press(b.DuplicatePress, duplicates.duplicate_button),
        committee_press(b.AssignPress, assign.assign_button),
        private_press(b.FeedbackPress, feedback.walk_button),
        committee_press(b.TrusteePress, feedback.trustee_button),
        private_press(b.FollowupPress, followup.followup_button),
        private_press(b.ActivityAnswer, activities.activity_answer),
        private_press(b.ActivityOptIn, activities.opt_in_button),
        committee_press(b.ActivityWizardPress, activity_wizard.activity_button),
        committee_press(b.ActivityManagePress, activities.manage_button),
        CallbackQueryHandler(common.stale_button),
        MessageHandler(PRIVATE & NEW_MESSAGE & filters.COMMAND, common.unknown_command),
        MessageHandler(PRIVATE & NEW_MESSAGE, private_message),
        MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, common.edited_message),
    ]
    handlers.append(ChatMemberHandler(common.membership, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handlers(handlers)
    app.add_error_handler(common.error_handler)
