"""The shared resources of a running bot, opened in post_init and closed in post_shutdown."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from bot import notices, progress
from bot.activities import ActivityService
from bot.assign import AssignService
from bot.config import Settings
from bot.crypto import Cipher
from bot.delivery import Delivery
from bot.duplicates import DuplicateService
from bot.feedback import FeedbackService
from bot.followup import FollowupService
from bot.forms import Form, load_form
from bot.i18n import I18n, Translator
from bot.ids import Ids
from bot.intake import IntakeService
from bot.keyring import resolve_keys
from bot.people import PeopleService
from bot.privacy import PrivacyService
from bot.review import ReviewService
from bot.rotation import record_key_in_use
from bot.sessions import SessionService
from bot.storage import Database, meta
from bot.support import SupportService
from bot.tasks import TaskService
from bot.vetting import Vetting
from bot.volunteers import VolunteerService

if TYPE_CHECKING:  # only the delivery worker talks to Telegram: the bot is handed through
    from telegram import Bot


@dataclass
class Services:
    """Everything a handler may need, in one typed place."""

    settings: Settings
    db: Database
    cipher: Cipher
    ids: Ids
    i18n: I18n
    form: Form  # the intake form
    volunteer_form: Form
    intake: IntakeService
    review: ReviewService
    tasks: TaskService
    people: PeopleService
    volunteers: VolunteerService
    vetting: Vetting
    sessions: SessionService
    privacy: PrivacyService
    delivery: Delivery
    support: SupportService
    duplicates: DuplicateService
    assign: AssignService
    feedback: FeedbackService
    followup: FollowupService
    activities: ActivityService

    def language_of(self, user_id: int | None, fallback: str) -> Translator:
        """The translator for a person, by their remembered language."""
        return self.i18n.get(self.people.cached(user_id) or fallback)


async def open_services(settings: Settings, bot: Bot, i18n: I18n) -> Services:
    """Open the database, load the key and the forms, wire the outbox and its renderers.

    A database that holds data and no key that opens it stops here (ConfigError): a new key
    is made only for a new database.
    """
    keys = resolve_keys(settings)
    cipher = Cipher(keys)
    record_key_in_use(settings.data_dir, keys)  # what rotate-key --finish checks
    forms = {name: load_form(name) for name in ("intake", "volunteer")}
    db = Database(settings.database_path)
    await db.open(cipher)
    try:
        ids = await meta.load_ids(db, cipher)
    except BaseException:
        await db.close()
        raise
    review = ReviewService(
        db, ids, settings.committee_chat_id, settings.tz, settings.followup_days
    )
    tasks = TaskService(
        db, ids, settings.reminder_offsets, settings.committee_chat_id, forms["volunteer"]
    )
    people = PeopleService(db, ids)
    volunteers = VolunteerService(db, ids)
    delivery = Delivery(db, bot, ids)
    activities = ActivityService(db, ids, forms["intake"], forms["volunteer"])
    sources = notices.Sources(
        settings, db, cipher, i18n, forms, review, tasks, people, volunteers, activities
    )
    notices.register(delivery, sources)
    delivery.after_batch = partial(
        progress.each,
        partial(progress.report, delivery, tasks, people, i18n, settings.committee_language),
        partial(
            progress.report_activities,
            delivery,
            activities,
            people,
            i18n,
            settings,
            forms["volunteer"],
        ),
    )
    intake = IntakeService(db, ids, forms)
    return Services(
        settings,
        db,
        cipher,
        ids,
        i18n,
        forms["intake"],
        forms["volunteer"],
        intake,
        review,
        tasks,
        people,
        volunteers,
        Vetting(volunteers, tasks),
        SessionService(db, ids),
        PrivacyService(db, ids, tasks, settings.committee_chat_id, activities),
        delivery,
        SupportService(db, ids, settings),
        DuplicateService(db, ids, settings.committee_chat_id),
        AssignService(db, ids, forms, settings.tz),
        FeedbackService(db, ids, settings),
        FollowupService(db, ids, settings.followup_days, settings.tz),
        activities,
    )
