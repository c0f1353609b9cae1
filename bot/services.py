"""The shared resources of a running bot, opened in post_init and closed in post_shutdown."""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import Bot

from bot import render
from bot.config import Settings
from bot.crypto import Cipher, load_or_create_key_file
from bot.delivery import Delivery, Rendered
from bot.forms import Form, load_form
from bot.i18n import I18n
from bot.intake import IntakeService
from bot.storage import Database, outbox
from bot.storage import cases as case_repo


@dataclass
class Services:
    """Everything a handler may need, in one typed place."""

    settings: Settings
    db: Database
    cipher: Cipher
    i18n: I18n
    form: Form
    intake: IntakeService
    delivery: Delivery
    languages: dict[int, str] = field(default_factory=dict)

    async def committee_card(self, case: case_repo.Case) -> Rendered:
        """The case's card in the committee's language."""
        t = self.i18n.get(self.settings.committee_language)
        personal = case_repo.personal(self.cipher, case)
        visible = {
            **case.answers,
            **{s.id: personal[s.id] for s in self.form.card_steps() if s.id in personal},
        }
        text = render.card(t, self.form, case, visible, self.settings.tz)
        return text, render.card_keyboard(t, case)

    async def _render_item(self, item: outbox.Item) -> Rendered | None:
        case = await case_repo.by_id(self.db, item.case_id) if item.case_id else None
        return None if case is None else await self.committee_card(case)


async def open_services(settings: Settings, bot: Bot, i18n: I18n) -> Services:
    """Open the database, load the key and the form, wire the outbox."""
    keys = settings.encryption_keys or load_or_create_key_file(settings.key_file)
    cipher = Cipher(keys)
    form = load_form()
    db = Database(settings.database_path)
    await db.open()
    delivery = Delivery(db, bot)
    services = Services(
        settings, db, cipher, i18n, form, IntakeService(db, cipher, form), delivery
    )
    delivery.register("committee_card", services._render_item)
    return services
