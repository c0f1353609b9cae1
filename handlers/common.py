"""Start, help, language, unknown input and the one error handler."""

from __future__ import annotations

import contextlib
import logging
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable

from telegram import ChatMember, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import Conflict, Forbidden, TelegramError, TimedOut
from telegram.ext import ApplicationHandlerStop

from bot.buttons import ApplyChoice, LanguageChoice
from bot.context import SanadContext
from bot.i18n import Translator
from bot.limits import FloodGate, Verdict
from bot.processor import flood_gated
from bot.render import bold, contact_line
from handlers.intake import resume_hint
from handlers.util import edit_in_place, private, reply, stale

log = logging.getLogger(__name__)

# Where handlers.register puts the command table's /help lines (see help_lines).
HELP_LINES = "help_lines"
HelpLines = Callable[[Translator, bool, bool], list[str]]


class SeenUpdates:
    """The most recent update ids, to process an update Telegram delivers twice only once."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._ids: OrderedDict[int, None] = OrderedDict()

    def first_time(self, update_id: int) -> bool:
        """True the first time an id is seen (remembering it), False afterwards."""
        if update_id in self._ids:
            return False
        self._ids[update_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


async def drop_repeats(update: Update, context: SanadContext) -> None:
    """Group -3: an update already processed (a webhook retry, a redelivery) stops here."""
    seen: SeenUpdates = context.bot_data.setdefault("seen_updates", SeenUpdates())
    if not seen.first_time(update.update_id):
        log.info("Update %d delivered again: ignored", update.update_id)
        raise ApplicationHandlerStop


async def load_person(update: Update, context: SanadContext) -> None:
    """Group -2: load the person's language into the context, for every update."""
    user = update.effective_user
    if user is None:
        return
    services = context.services
    stored = await services.people.language(user.id)
    context.known = stored is not None
    context.lang = stored or services.i18n.match(user.language_code) or services.i18n.default


async def flood_gate(update: Update, context: SanadContext) -> None:
    """Group -1: a person sending faster than anybody could read is slowed down and told.

    What is dropped is not processed at all; the person is asked to send it again.
    """
    user = update.effective_user
    if user is None or not flood_gated(update):
        return
    gate: FloodGate = context.bot_data["flood"]
    verdict = gate.verdict(update.update_id, user.id)
    if verdict is Verdict.ALLOW:
        return
    text = context.t.raw(
        "You are sending messages faster than I can answer them. Please wait a few seconds, "
        "then send your last message again."
    )
    with contextlib.suppress(TelegramError):
        if update.callback_query is not None:
            await update.callback_query.answer(text)
        elif verdict is Verdict.TELL and private(update):
            log.info("Flood: a person is being slowed down (update %d)", update.update_id)
            await reply(update, text)
    raise ApplicationHandlerStop


async def remember_language(context: SanadContext, user_id: int, lang: str) -> None:
    """Store the person's language."""
    await context.services.people.set_language(user_id, lang)
    context.lang = lang
    context.known = True


def language_keyboard(context: SanadContext) -> InlineKeyboardMarkup:
    """One button per language, each in its own name."""
    i18n = context.services.i18n
    return InlineKeyboardMarkup(
        [[LanguageChoice(lang).button(i18n.native_name(lang))] for lang in i18n.languages]
    )


async def start(update: Update, context: SanadContext) -> None:
    """/start: greet in the person's language, or ask which language they prefer."""
    user = update.effective_user
    assert user is not None
    i18n = context.services.i18n
    if not context.known:
        matched = i18n.match(user.language_code)
        if matched is None:
            await reply(
                update, "اختر لغتك / Choose your language", reply_markup=language_keyboard(context)
            )
            return
        await remember_language(context, user.id, matched)
    await send_welcome(update, context)


def welcome(context: SanadContext) -> str:
    """The greeting, what the bot does, and the way in for volunteers: short, the Apply button
    under it does the rest (/help lists every command)."""
    t = context.t
    return "\n\n".join(
        [
            bold(t("Welcome to Sanad")),
            t.raw(
                "Sanad is the confidential channel of the community's social solidarity "
                "committee. It gives temporary support to families in the most critical "
                "situations. This is not a debt relief program."
            ),
            t.raw("Want to volunteer? /volunteer"),
            t.raw("/help shows everything I can do."),
        ]
    )


async def send_welcome(update: Update, context: SanadContext) -> None:
    """The welcome, with an "Apply for support" button; with an application under way, the
    question it stopped at comes instead (one live question in the chat)."""
    assert update.effective_user is not None
    draft = await context.services.intake.load(update.effective_user.id)
    if draft is not None:
        await reply(update, welcome(context))
        await resume_hint(update, context)
        return
    apply = ApplyChoice("a", "").button(context.t.raw("📝 Apply for support"))
    await reply(update, welcome(context), reply_markup=InlineKeyboardMarkup([[apply]]))


def help_lines(context: SanadContext, *, committee: bool = False, volunteer: bool = False) -> str:
    """What anybody can do here (with a registered ``volunteer``'s own commands, else how to
    volunteer), or (``committee``) what only members can.

    The lines come from the command table (handlers/commands.py), which :func:`handlers.register`
    hands over in ``bot_data``: the table names this module's handlers, so this module cannot
    import it.
    """
    lines: HelpLines = context.bot_data[HELP_LINES]
    return "\n".join(lines(context.t, committee, volunteer))


async def help_command(update: Update, context: SanadContext) -> None:
    """/help: what the person can do here."""
    t = context.t
    settings = context.services.settings
    user = update.effective_user
    if not private(update):
        if update.effective_chat and update.effective_chat.id == settings.committee_chat_id:
            await reply(
                update,
                t.raw(
                    "New applications appear here as cards without personal details. A committee "
                    "member who presses Details receives the full case in a private chat with me; "
                    "every view is recorded."
                ),
            )
        return
    registered = user is not None and await context.services.volunteers.get(user.id) is not None
    parts = [help_lines(context, volunteer=registered)]
    reach = contact_line(t, settings.contact)
    if reach is not None:
        parts.append(reach)
    if user is not None and settings.is_member(user.id):
        parts.append(
            t.raw(
                "Committee: press Details on a card in the committee group, or send /case "
                "followed by the reference, to receive a case in full here. "
                "Every view is recorded."
            )
        )
        parts.append(help_lines(context, committee=True))
    await reply(update, "\n\n".join(parts))
    await resume_hint(update, context)


async def language_command(update: Update, context: SanadContext) -> None:
    """/language: offer every language, each in its own name."""
    await reply(
        update, context.t.raw("Choose your language"), reply_markup=language_keyboard(context)
    )


async def language_chosen(update: Update, context: SanadContext, choice: LanguageChoice) -> None:
    """A language button: remember the choice and carry on in that language."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    lang = choice.lang
    if lang not in context.services.i18n.languages:
        await stale(query, context.t)
        return
    await remember_language(context, update.effective_user.id, lang)
    await query.answer()
    await edit_in_place(
        query, context.t("Language: {name}", name=context.services.i18n.native_name(lang))
    )
    await send_welcome(update, context)


async def unknown_command(update: Update, context: SanadContext) -> None:
    """A command the bot does not know."""
    await reply(
        update, context.t.raw("I don't know that command. Send /help to see what I can do.")
    )
    await resume_hint(update, context)


async def stale_button(update: Update, context: SanadContext) -> None:
    """Any button no handler recognised: old, foreign or forged."""
    assert update.callback_query is not None
    await stale(update.callback_query, context.t)


async def edited_message(update: Update, context: SanadContext) -> None:
    """An edited message: answers cannot be changed by editing."""
    if private(update):
        await reply(
            update,
            context.t.raw(
                "I cannot read edited messages. Please send your answer again as a new message."
            ),
        )


async def error_handler(update: object, context: SanadContext) -> None:
    """Log without personal data, apologise in the person's language, keep going."""
    error = context.error
    frames = traceback.extract_tb(error.__traceback__) if error else []
    where = " <- ".join(f"{f.name}:{f.lineno}" for f in reversed(frames[-6:]))
    update_id = update.update_id if isinstance(update, Update) else None
    if update is None and context.job is None and isinstance(error, TelegramError):
        # Fetching updates failed; PTB tries again with backoff by itself.
        if isinstance(error, Conflict):
            # Not Telegram's fault: a second copy polls with the same token, and the two
            # share the updates (and, on two servers, two databases). Said once a minute.
            now = time.monotonic()
            if now - context.bot_data.get("conflict_logged", -60.0) >= 60:
                context.bot_data["conflict_logged"] = now
                log.error(
                    "Another copy of the bot is fetching updates with the same token: "
                    "stop it, only one may run"
                )
            return
        log.warning("Telegram %s outside an update (fetching updates)", type(error).__name__)
        return
    if isinstance(error, Forbidden | TimedOut):
        # Blocked by the person, or Telegram did not answer in time (the reply may well have
        # arrived): an apology would fail or repeat. Whatever was saved stays saved.
        log.warning("Telegram %s in update %s at %s", type(error).__name__, update_id, where)
        return
    log.error("Unhandled %s in update %s at %s", type(error).__name__, update_id, where)
    if not isinstance(update, Update) or update.effective_chat is None or not private(update):
        return
    try:
        await load_person(update, context)  # error handlers get a fresh context
        if update.callback_query is not None:
            await update.callback_query.answer()
        await reply(
            update,
            context.t.raw(
                "Sorry, something went wrong on our side. Your answers are saved; please try "
                "again in a moment."
            ),
        )
    except Exception as exc:
        log.warning("Could not send the apology: %s", type(exc).__name__)


async def membership(update: Update, context: SanadContext) -> None:
    """The bot's membership changed: a person blocked or unblocked it, or a group removed it."""
    change = update.my_chat_member
    if change is None:
        return
    status = change.new_chat_member.status
    if change.chat.type == ChatType.PRIVATE:
        reachable = status not in (ChatMember.BANNED, ChatMember.LEFT)
        await context.services.people.set_reachable(change.chat.id, reachable)
        log.info("A person %s the bot", "unblocked" if reachable else "blocked")
    elif change.chat.id == context.services.settings.committee_chat_id and status in (
        ChatMember.BANNED,
        ChatMember.LEFT,
    ):
        log.error("The bot was removed from the committee group: cards cannot be delivered")
