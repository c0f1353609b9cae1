"""The shared resources of a running bot, opened in post_init and closed in post_shutdown."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, TelegramError

from bot import render
from bot.config import Settings
from bot.crypto import Cipher, load_or_create_key_file
from bot.delivery import Delivery, Outgoing
from bot.forms import Form, load_form
from bot.i18n import I18n, Translator
from bot.intake import IntakeService
from bot.kinds import Kind
from bot.render import bold as bold_line
from bot.review import ReviewService
from bot.rotation import record_key_in_use
from bot.storage import Database, outbox, people, volunteers
from bot.storage import cases as case_repo
from bot.tasks import TaskService

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a handler may need, in one typed place."""

    settings: Settings
    db: Database
    cipher: Cipher
    i18n: I18n
    form: Form
    intake: IntakeService
    review: ReviewService
    tasks: TaskService
    delivery: Delivery
    languages: dict[int, str] = field(default_factory=dict)

    def card_text(self, case: case_repo.Case) -> str:
        """The case's card in the committee's language."""
        t = self.i18n.get(self.settings.committee_language)
        personal = case_repo.personal(self.cipher, case)
        visible = {
            **case.answers,
            **{s.id: personal[s.id] for s in self.form.card_steps() if s.id in personal},
        }
        return render.card(t, self.form, case, visible, self.settings.tz)

    def language_of(self, user_id: int | None, fallback: str) -> Translator:
        """The translator for a person, by their stored language."""
        return self.i18n.get(self.languages.get(user_id or 0) or fallback)

    async def _render(self, item: outbox.Item) -> Outgoing | None:
        """Render an outbox item from the current state of its case or task."""
        if item.task_id is not None:
            return await self._render_task(item)
        case = await case_repo.by_id(self.db, item.case_id) if item.case_id else None
        if case is None:
            return None
        committee = self.i18n.get(self.settings.committee_language)
        payload = self.cipher.decrypt_json(item.payload) if item.payload else {}
        if item.kind == "committee_card":
            return Outgoing(self.card_text(case), render.case_keyboard(committee, case))
        if item.kind == "card_update":
            sent = await outbox.message_of(self.db, "committee_card", case.id)
            if sent is None:
                return None  # the card itself is still to be sent, with the current state
            return Outgoing(
                self.card_text(case), render.case_keyboard(committee, case), edit=sent[1]
            )
        if item.kind == "family_notice":
            t = self.i18n.get(await self._stored_language(case.user_id) or case.language)
            notice = payload["notice"]
            question = None
            markup = None
            if notice == "question":
                request = await self.review.open_request(int(payload["request"]))
                if request is None:
                    return None
                question = request.question
                markup = InlineKeyboardMarkup(
                    [[render.button(t.raw("✍️ Answer"), "fa", request.id)]]
                )
            message = self.review.message_of(case) if notice != "question" else None
            return Outgoing(
                render.family_notice(t, self.form, case, notice, message, question), markup
            )
        if item.kind == "member_notice":
            t = self.i18n.get(
                await self._stored_language(item.chat_id) or self.settings.committee_language
            )
            requests = {r.id: r for r in await self.review.requests(case.id)}
            request = requests.get(int(payload["request"]))
            if request is None or request.answer is None:
                return None
            return Outgoing(render.answer_notice(t, case, request.answer))
        if item.kind == "support_end":
            markup = InlineKeyboardMarkup(
                [
                    [
                        render.button(committee.raw("🔁 Renew"), "cv", "renew", case.ref),
                        render.button(committee.raw("📁 Close"), "cv", "close", case.ref),
                    ],
                ]
            )
            return Outgoing(render.support_end(committee, self.form, case), markup)
        return None

    async def _render_task(self, item: outbox.Item) -> Outgoing | None:
        row = await self.db.fetchone("SELECT ref FROM tasks WHERE id = ?", (item.task_id,))
        task = await self.tasks.get(row["ref"]) if row else None
        if task is None or (task.status != "open" and item.kind != "task_cancelled"):
            return None
        t = self.i18n.get(await self._stored_language(item.chat_id) or self.i18n.default)
        text = render.task_text(t, self.intake.forms["volunteer"], task, self.settings.tz)
        ref = task.ref
        if item.kind == "task_promoted":
            head = t.raw("A place became free: you are now in this task.")
            return Outgoing(bold_line(head) + "\n\n" + text)
        if item.kind == "task_cancelled":
            return Outgoing(
                bold_line(t.raw("This task is cancelled. Thank you for your help."))
                + "\n\n"
                + text
            )
        if item.kind == "task_changed":
            return Outgoing(
                bold_line(t.raw("This task was changed: please check the new details."))
                + "\n\n"
                + text
            )
        if item.kind == "task_reminder":
            return Outgoing(
                bold_line(t.raw("Reminder")) + "\n\n" + text,
                InlineKeyboardMarkup(
                    [
                        [
                            render.button(t.raw("✅ I'm coming"), "tk", "c", ref),
                            render.button(t.raw("I can't make it"), "tk", "w", ref),
                        ]
                    ]
                ),
            )
        if item.kind == "task_followup":
            return Outgoing(
                bold_line(t.raw("Was this task done?")) + "\n\n" + text,
                InlineKeyboardMarkup(
                    [
                        [
                            render.button(t.raw("✅ Done"), "tk", "y", ref),
                            render.button(t.raw("✖️ It did not happen"), "tk", "n", ref),
                        ]
                    ]
                ),
            )
        if item.kind in ("task_dropout", "task_outcome"):
            payload = self.cipher.decrypt_json(item.payload) if item.payload else {}
            profile = await volunteers.get(self.db, self.cipher, int(payload["volunteer"]))
            name = profile.personal.get("name") if profile else None
            who = name or t.raw("A volunteer")
            if item.kind == "task_dropout":
                line = t(
                    "{name} can't make it to task {ref}: {title}. The first on the "
                    "waiting list, if any, takes the place.",
                    name=who,
                    ref=ref,
                    title=task.title,
                )
            elif payload.get("outcome") == "done":
                line = t(
                    "{name}: task {ref} ({title}) was done.", name=who, ref=ref, title=task.title
                )
            else:
                line = t(
                    "{name}: task {ref} ({title}) did not happen.",
                    name=who,
                    ref=ref,
                    title=task.title,
                )
            return Outgoing(line)
        return Outgoing(text, render.task_keyboard(t, ref))

    async def report_progress(self) -> None:
        """Edit each member's "sent X of N" message; the last edit is the summary."""
        for progress in await self.tasks.progress():
            t = self.i18n.get(
                await self._stored_language(progress.chat_id) or self.settings.committee_language
            )
            if progress.finished:
                text = t(
                    "Task {ref} sent: {sent} delivered, {blocked} blocked the bot, "
                    "{failed} failed.",
                    ref=progress.ref,
                    sent=t.number(progress.sent),
                    blocked=t.number(progress.blocked),
                    failed=t.number(progress.failed),
                )
            else:
                text = t(
                    "Task {ref}: sent {sent} of {total}…",
                    ref=progress.ref,
                    sent=t.number(progress.sent),
                    total=t.number(progress.total),
                )
            try:
                await self.delivery.bot.edit_message_text(
                    text, chat_id=progress.chat_id, message_id=progress.message_id
                )
            except BadRequest as exc:  # the message is gone: no use trying again
                log.warning(
                    "Progress of task %d not shown: %s", progress.task_id, type(exc).__name__
                )
            except TelegramError as exc:
                log.warning(
                    "Progress of task %d not shown: %s", progress.task_id, type(exc).__name__
                )
                continue
            if progress.finished:
                await self.tasks.progress_done(progress.task_id)

    async def _stored_language(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        if user_id not in self.languages:
            stored = await people.get_language(self.db, user_id)
            if stored is None:
                return None
            self.languages[user_id] = stored
        return self.languages[user_id]


async def open_services(settings: Settings, bot: Bot, i18n: I18n) -> Services:
    """Open the database, load the key and the form, wire the outbox."""
    keys = settings.encryption_keys or load_or_create_key_file(settings.key_file)
    cipher = Cipher(keys)
    record_key_in_use(settings.data_dir, keys)  # what rotate-key --finish checks
    forms = {name: load_form(name) for name in ("intake", "volunteer")}
    form = forms["intake"]
    db = Database(settings.database_path)
    await db.open()
    delivery = Delivery(db, bot)
    review = ReviewService(db, cipher, settings.committee_chat_id, settings.tz)
    services = Services(
        settings,
        db,
        cipher,
        i18n,
        form,
        IntakeService(db, cipher, forms),
        review,
        TaskService(db, cipher, settings.reminder_offsets, settings.committee_chat_id),
        delivery,
    )
    for kind in Kind:
        delivery.register(kind, services._render)
    delivery.after_batch = services.report_progress
    return services
