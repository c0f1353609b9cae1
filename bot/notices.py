"""What each kind of outbox message says: one renderer per kind.

A message is rendered when it is sent, not when it is queued, from the current state of its
case or task: a card sent after a restart shows the case as it is now, and an offer for a task
cancelled meanwhile is not sent at all. A renderer returns None when there is nothing (any
more) to send; the delivery worker then skips the item.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from telegram import InlineKeyboardMarkup

from bot import activity_views, followup_render, render
from bot.activities import OPEN, Activity, ActivityService
from bot.buttons import CardPress, FamilyAnswerPress, ReceiptPress
from bot.config import Settings
from bot.crypto import Cipher
from bot.delivery import Delivery, Outgoing
from bot.feedback import answer_text, closed_text, trustee_keyboard, trustee_text
from bot.forms import NAME, Form
from bot.i18n import N_, I18n, Translator, escape
from bot.kinds import Kind
from bot.membership import MEMBER_KINDS
from bot.people import PeopleService
from bot.render import bold
from bot.review import ReviewService
from bot.storage import Database, followups, outbox, utcnow
from bot.storage import cases as case_repo
from bot.storage import feedback as feedback_repo
from bot.storage import support as support_repo
from bot.storage import tasks as task_repo
from bot.storage.volunteers import ACTIVE, PENDING
from bot.support_text import alert_history, alert_text, card_line, family_question
from bot.tasks import Task, TaskService
from bot.vetting import APPROVE, DECLINE, RESTORE, SUSPEND
from bot.volunteers import VolunteerService


@dataclass(frozen=True)
class Sources:
    """What the renderers read the current state from."""

    settings: Settings
    db: Database
    cipher: Cipher
    i18n: I18n
    forms: Mapping[str, Form]
    review: ReviewService
    tasks: TaskService
    people: PeopleService
    volunteers: VolunteerService
    activities: ActivityService | None = None

    @property
    def committee(self) -> Translator:
        """The committee's translator."""
        return self.i18n.get(self.settings.committee_language)


Renderer = Callable[[Sources, outbox.Item], Awaitable[Outgoing | None]]


def card_text(src: Sources, case: case_repo.Case) -> str:
    """The case's card in the committee's language: the answers of the ``on_card`` steps only
    (a personal one only if it is a choice among options, such as the area)."""
    form = src.forms["intake"]
    personal = src.review.personal(case)
    visible = {
        **case.answers,
        **{s.id: personal[s.id] for s in form.card_steps() if s.id in personal},
    }
    return render.card(src.committee, form, case, visible, src.settings.tz)


def _payload(src: Sources, item: outbox.Item) -> dict[str, Any]:
    """The item's encrypted specifics (which notice, which question, which volunteer)."""
    return src.cipher.decrypt_json(item.payload) if item.payload else {}


async def _case(src: Sources, item: outbox.Item) -> case_repo.Case | None:
    return await src.review.by_id(item.case_id) if item.case_id else None


# --- about a case ---------------------------------------------------------------------------


async def committee_card(src: Sources, item: outbox.Item) -> Outgoing | None:
    """A new case's card, sent to the committee group."""
    case = await _case(src, item)
    if case is None:
        return None
    return Outgoing(await card_with_support(src, case), render.case_keyboard(src.committee, case))


async def card_update(src: Sources, item: outbox.Item) -> Outgoing | None:
    """The case changed: its card is edited in place."""
    case = await _case(src, item)
    if case is None:
        return None
    sent = await outbox.message_of(src.db, src.review.ids, Kind.COMMITTEE_CARD, case.id)
    if sent is None:
        return None  # the card itself is still to be sent, with the current state
    return Outgoing(
        await card_with_support(src, case), render.case_keyboard(src.committee, case), edit=sent[1]
    )


async def family_notice(src: Sources, item: outbox.Item) -> Outgoing | None:
    """The family is told a decision, or asked a question, in its own language."""
    case = await _case(src, item)
    if case is None:
        return None
    payload = _payload(src, item)
    t = src.i18n.get(await src.people.language(case.user_id) or case.language)
    notice = payload["notice"]
    form = src.forms["intake"]
    if notice != "question":
        message = src.review.message_of(case)
        contact = src.settings.contact
        return Outgoing(render.family_notice(t, form, case, notice, message, contact=contact))
    request = await src.review.open_request(int(payload["request"]))
    if request is None:
        return None  # answered or withdrawn meanwhile
    answer = InlineKeyboardMarkup([[FamilyAnswerPress(request.id).button(t.raw("✍️ Answer"))]])
    return Outgoing(render.family_notice(t, form, case, notice, None, request.question), answer)


async def member_notice(src: Sources, item: outbox.Item) -> Outgoing | None:
    """The member who asked is told that the family answered."""
    case = await _case(src, item)
    if case is None:
        return None
    payload = _payload(src, item)
    t = src.i18n.get(await src.people.language(item.chat_id) or src.settings.committee_language)
    requests = {r.id: r for r in await src.review.requests(case.id)}
    request = requests.get(int(payload["request"]))
    if request is None or request.answer is None:
        return None
    return Outgoing(render.answer_notice(t, case, request.answer))


async def support_end(src: Sources, item: outbox.Item) -> Outgoing | None:
    """The committee is reminded that a support period ends, with Renew and Close."""
    case = await _case(src, item)
    if case is None:
        return None
    t = src.committee
    choices = InlineKeyboardMarkup(
        [
            [
                CardPress("renew", case.ref).button(t.raw("🔁 Renew")),
                CardPress("close", case.ref).button(t.raw("📁 Close")),
            ],
        ]
    )
    text = render.support_end(t, src.forms["intake"], case)
    line = await _followup_line(src, t, case)
    return Outgoing(text if line is None else f"{text}\n\n{line}", choices)


async def _followup_line(src: Sources, t: Translator, case: case_repo.Case) -> str | None:
    """The follow-up of the period that ends, as the group may read it: answered or not."""
    if not case.support_until:
        return None
    found = await followups.of_period(
        src.db, src.review.ids, case.id, date.fromisoformat(case.support_until)
    )
    return followup_render.group_line(t, found, case.ref)


async def support_followup(src: Sources, item: outbox.Item) -> Outgoing | None:
    """The family is asked how things are now, before its support period ends; not sent
    once answered, or when the case is gone."""
    payload = _payload(src, item)
    found = await followups.get(src.db, src.review.ids, int(payload["followup"]))
    case = await _case(src, item)
    if found is None or found.answer is not None or case is None or case.user_id is None:
        return None
    t = src.i18n.get(await src.people.language(case.user_id) or case.language)
    text = followup_render.question(t, case.ref, escape(t.date(found.until)))
    return Outgoing(text, followup_render.keyboard(t, found.id))


# --- about a task ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _TaskView:
    """A task as the recipient reads it: in their language, with its description."""

    task: Task
    t: Translator
    text: str

    def headed(self, head: str) -> str:
        """The task's description under a bold first line."""
        return bold(head) + "\n\n" + self.text


async def _task(
    src: Sources, item: outbox.Item, *, open_only: bool = True, places: bool = False
) -> _TaskView | None:
    """The item's task, unless it is gone, or (``open_only``) no longer open; ``places``:
    with the places left, for a volunteer who may still take one."""
    if item.task_id is None:
        return None
    task = await src.tasks.by_id(item.task_id)
    if task is None or (open_only and task.status != "open"):
        return None
    t = src.i18n.get(await src.people.language(item.chat_id) or src.i18n.default)
    text = render.task_text(t, src.forms["volunteer"], task, src.settings.tz, places=places)
    return _TaskView(task, t, text)


async def task_offer(src: Sources, item: outbox.Item) -> Outgoing | None:
    """A volunteer is offered a task, under a heading that says what it is, with Accept and
    Decline."""
    view = await _task(src, item, places=True)
    if view is None:
        return None
    head = view.t.raw("New volunteer task in your area")
    if view.task.offered_to is not None:
        head = view.t.raw("The committee asks you, personally, for this task")
    return Outgoing(view.headed(head), render.task_keyboard(view.t, view.task.ref))


async def task_promoted(src: Sources, item: outbox.Item) -> Outgoing | None:
    """A volunteer on the waiting list got a place."""
    view = await _task(src, item)
    if view is None:
        return None
    t = view.t
    text = view.headed(t.raw("A place became free: you are now in this task."))
    return Outgoing(text + "\n\n" + render.task_next(t, src.settings.reminder_offsets))


async def task_cancelled(src: Sources, item: outbox.Item) -> Outgoing | None:
    """The task's volunteers are told it is cancelled (it is, so it is no longer open)."""
    view = await _task(src, item, open_only=False)
    if view is None:
        return None
    return Outgoing(view.headed(view.t.raw("This task is cancelled. Thank you for your help.")))


async def task_changed(src: Sources, item: outbox.Item) -> Outgoing | None:
    """The task's volunteers are shown its new details."""
    view = await _task(src, item)
    if view is None:
        return None
    head = view.t.raw("This task was changed: please check the new details.")
    return Outgoing(view.headed(head))


async def task_reminder(src: Sources, item: outbox.Item) -> Outgoing | None:
    """Before the task: the volunteer confirms, or gives the place back."""
    view = await _task(src, item)
    if view is None:
        return None
    t = view.t
    choices = render.task_choices(
        view.task.ref, ("c", t.raw("✅ I'm coming")), ("w", t.raw("I can't make it"))
    )
    return Outgoing(view.headed(t.raw("Reminder")), choices)


async def task_followup(src: Sources, item: outbox.Item) -> Outgoing | None:
    """After the task: the volunteer says whether it was done."""
    view = await _task(src, item)
    if view is None:
        return None
    t = view.t
    choices = render.task_choices(
        view.task.ref, ("y", t.raw("✅ Done")), ("n", t.raw("✖️ It did not happen"))
    )
    return Outgoing(view.headed(t.raw("Was this task done?")), choices)


async def _volunteer_name(src: Sources, t: Translator, payload: Mapping[str, Any]) -> str:
    """The volunteer's name from their profile, or "A volunteer" once it is erased."""
    volunteer = payload.get("volunteer")  # None: a volunteer who left, unnamed
    profile = await src.volunteers.get(int(volunteer)) if volunteer else None
    name = profile.personal.get(src.forms["volunteer"].role_id(NAME)) if profile else None
    return str(name) if name else t.raw("A volunteer")


async def _volunteer_ref(src: Sources, t: Translator, payload: Mapping[str, Any]) -> str:
    """The volunteer's reference, as the member chose them from the shortlist and sees them
    in /volunteers, or "A volunteer" once their data is erased."""
    volunteer = payload.get("volunteer")  # None or NOBODY: a volunteer who left, unnamed
    profile = await src.volunteers.get(int(volunteer)) if volunteer else None
    return t.isolate(profile.ref) if profile and profile.ref else t.raw("A volunteer")


async def task_dropout(src: Sources, item: outbox.Item) -> Outgoing | None:
    """The task's creator is told that a volunteer gave their place back."""
    view = await _task(src, item)
    if view is None:
        return None
    t, task = view.t, view.task
    who = await _volunteer_name(src, t, _payload(src, item))
    return Outgoing(
        t(
            "{name} can't make it to task {ref}: {title}. The first on the "
            "waiting list, if any, takes the place.",
            name=who,
            ref=task.ref,
            title=task.title,
        )
    )


async def task_outcome(src: Sources, item: outbox.Item) -> Outgoing | None:
    """The task's creator is told whether a volunteer did the task."""
    view = await _task(src, item)
    if view is None:
        return None
    t, task = view.t, view.task
    payload = _payload(src, item)
    who = await _volunteer_name(src, t, payload)
    if payload.get("outcome") == "done":
        line = t(
            "{name}: task {ref} ({title}) was done.", name=who, ref=task.ref, title=task.title
        )
    else:
        line = t(
            "{name}: task {ref} ({title}) did not happen.",
            name=who,
            ref=task.ref,
            title=task.title,
        )
    return Outgoing(line)


async def task_offer_answer(src: Sources, item: outbox.Item) -> Outgoing | None:
    """The member who offered a task to one volunteer is told their answer, or that they
    have not answered yet."""
    view = await _task(src, item, open_only=False)
    if view is None:
        return None
    t, task = view.t, view.task
    payload = _payload(src, item)
    who = await _volunteer_ref(src, t, payload)
    answer = payload.get("answer")
    if answer == "accepted":
        line = t("{name} accepted task {ref}: {title}.", name=who, ref=task.ref, title=task.title)
    elif answer == "declined":
        line = t(
            "{name} is not available for task {ref}: {title}. The task is cancelled; you "
            "can offer it to another volunteer from /case.",
            name=who,
            ref=task.ref,
            title=task.title,
        )
    else:
        line = t(
            "{name} has not answered task {ref} ({title}) yet. You can cancel it with "
            "/task {ref} and offer it to another volunteer from /case.",
            name=who,
            ref=task.ref,
            title=task.title,
        )
    return Outgoing(line)


# --- about a volunteer ----------------------------------------------------------------------


async def volunteer_card(src: Sources, item: outbox.Item) -> Outgoing | None:
    """A new volunteer's card in the committee group: matching facts only, with Approve,
    Decline and Details; not sent once they are decided or gone."""
    ref = str(_payload(src, item)["volunteer"])
    volunteer = await src.volunteers.by_ref(ref)
    if volunteer is None or volunteer.status != PENDING:
        return None
    t, form = src.committee, src.forms["volunteer"]
    return Outgoing(
        render.volunteer_card(t, form, ref, volunteer.answers), render.vetting_keyboard(t, ref)
    )


DECIDED = {
    APPROVE: N_("Approved by {name}."),
    DECLINE: N_("Declined by {name}: the profile was deleted."),
}


async def volunteer_card_update(src: Sources, item: outbox.Item) -> Outgoing | None:
    """The card shows the decision (or, pressed once decided elsewhere, the volunteer's
    status now) and loses its buttons."""
    payload = _payload(src, item)
    ref = str(payload["volunteer"])
    volunteer = await src.volunteers.by_ref(ref)
    t, form = src.committee, src.forms["volunteer"]
    text = render.volunteer_card(t, form, ref, volunteer.answers if volunteer else None)
    if "decision" in payload:
        line = t(DECIDED[payload["decision"]], name=str(payload["by"]))
    elif volunteer is None:
        line = escape(t.raw("This volunteer is no longer registered."))
    else:
        line = render.field(t.raw("Status"), escape(render.volunteer_status(t, volunteer.status)))
    return Outgoing(text + "\n\n" + line, edit=int(payload["message"]))


VOLUNTEER_NOTICES = {
    APPROVE: N_(
        "The committee approved your volunteer profile. Thank you! You will now receive the "
        "tasks that fit you; /tasks lists the open ones."
    ),
    DECLINE: N_(
        "Thank you for offering your help. The committee cannot take you on as a volunteer "
        "for now, so your volunteer profile was deleted. You are welcome to register again "
        "later with /volunteer."
    ),
    SUSPEND: N_(
        "The committee has suspended your volunteer profile: you will receive no tasks for "
        "now, and the tasks you held were given back."
    ),
    RESTORE: N_("The committee restored your volunteer profile: you will receive tasks again."),
}


async def volunteer_notice(src: Sources, item: outbox.Item) -> Outgoing | None:
    """The volunteer is told the committee's decision in their language; an approval or a
    restoration no longer true (they left or were suspended meanwhile) is not sent."""
    notice = str(_payload(src, item)["notice"])
    if notice in (APPROVE, RESTORE):
        volunteer = await src.volunteers.get(item.chat_id)
        if volunteer is None or volunteer.status != ACTIVE:
            return None
    t = src.i18n.get(await src.people.language(item.chat_id) or src.i18n.default)
    return Outgoing(escape(t.raw(VOLUNTEER_NOTICES[notice])))


# --- support given ---------------------------------------------------------------------------


async def card_with_support(src: Sources, case: case_repo.Case) -> str:
    """The card, with its one line about support given: a count and a day, nothing else."""
    line = card_line(src.committee, await support_repo.summary(src.db, case.id))
    text = card_text(src, case)
    return text if line is None else f"{text}\n{line}"


async def _support_of(
    src: Sources, item: outbox.Item
) -> tuple[case_repo.Case, support_repo.Support] | None:
    case = await _case(src, item)
    record = await support_repo.get(src.db, src.review.ids, int(_payload(src, item)["support"]))
    return None if case is None or record is None else (case, record)


async def support_receipt(src: Sources, item: outbox.Item) -> Outgoing | None:
    """The family is asked, in its language, whether the support arrived (its kind and day
    only), with Received and Not received; not sent once it is answered or timed out."""
    found = await _support_of(src, item)
    if found is None or found[1].receipt != support_repo.PENDING:
        return None
    case, record = found
    t = src.i18n.get(await src.people.language(item.chat_id) or case.language)
    choices = InlineKeyboardMarkup(
        [
            [
                ReceiptPress("y", record.id).button(t.raw("✅ Received")),
                ReceiptPress("n", record.id).button(t.raw("✖️ Not received")),
            ]
        ]
    )
    return Outgoing(family_question(t, src.forms["intake"], case, record), choices)


async def support_alert(src: Sources, item: outbox.Item) -> Outgoing | None:
    """The member who recorded support (or every member, when they are no longer one) is
    told the family did not confirm it, with the case's delivery history."""
    found = await _support_of(src, item)
    if found is None:
        return None
    case, record = found
    t = src.i18n.get(await src.people.language(item.chat_id) or src.settings.committee_language)
    form, ids = src.forms["intake"], src.review.ids
    records = await support_repo.for_case(src.db, ids, case.id)
    tasks = {task.id: task.ref for task in await task_repo.for_case(src.db, ids, case.id)}
    history = alert_history(t, form, case, records, tasks)
    why = str(_payload(src, item)["why"])
    return Outgoing(alert_text(t, form, case, record, why, history, src.settings.receipt_days))


# --- about feedback -------------------------------------------------------------------------


async def _feedback(src: Sources, item: outbox.Item) -> feedback_repo.Feedback | None:
    """The item's feedback; None once erased or purged."""
    return await feedback_repo.get(src.db, src.review.ids, int(_payload(src, item)["feedback"]))


async def feedback_notice(src: Sources, item: outbox.Item) -> Outgoing | None:
    """A trustee receives a feedback privately, with Answer and Close: never someone who is
    no longer a trustee when it is sent, and not once it is closed."""
    if item.chat_id < 0 or not src.settings.is_trustee(item.chat_id):
        return None
    feedback = await _feedback(src, item)
    if feedback is None or feedback.status == feedback_repo.CLOSED:
        return None
    t = src.i18n.get(await src.people.language(item.chat_id) or src.settings.committee_language)
    text = trustee_text(t, feedback, src.settings.tz)
    return Outgoing(text, trustee_keyboard(t, feedback))


async def _to_author(
    src: Sources, item: outbox.Item
) -> tuple[Translator, feedback_repo.Feedback] | None:
    """The item's feedback and its author's language, if the item goes to its author."""
    feedback = await _feedback(src, item)
    if feedback is None or feedback.user_id != item.chat_id:
        return None
    return src.i18n.get(await src.people.language(item.chat_id) or feedback.language), feedback


async def feedback_answer(src: Sources, item: outbox.Item) -> Outgoing | None:
    """The person reads the trustee's answer as written, under a heading in their language."""
    found = await _to_author(src, item)
    if found is None or found[1].answer is None:
        return None
    return Outgoing(answer_text(*found))


async def feedback_closed(src: Sources, item: outbox.Item) -> Outgoing | None:
    """The person is told the trustees closed their feedback."""
    found = await _to_author(src, item)
    return None if found is None else Outgoing(closed_text(*found))


# --- about an activity ----------------------------------------------------------------------


async def _activity(
    src: Sources, item: outbox.Item, *, to_come: bool = True
) -> tuple[Activity, Translator] | None:
    """The item's activity and the recipient's translator, unless it is gone or (``to_come``)
    cancelled or started."""
    if item.activity_id is None or src.activities is None:
        return None
    activity = await src.activities.by_id(item.activity_id)
    if activity is None:
        return None
    if to_come and (activity.status != OPEN or activity.starts_at <= utcnow()):
        return None
    t = src.i18n.get(await src.people.language(item.chat_id) or src.i18n.default)
    return activity, t


async def activity_announcement(src: Sources, item: outbox.Item) -> Outgoing | None:
    """An invited person hears of an activity, in their language, with "I'll come" and "Not
    this time"."""
    found = await _activity(src, item)
    if found is None or src.activities is None:
        return None
    activity, t = found
    if not await src.activities.still_for(activity, item.chat_id):
        return None
    text = activity_views.headed(t.raw("Community activity"), t, activity, src.settings.tz)
    return Outgoing(text, activity_views.answer_keyboard(t, activity.ref))


async def activity_promoted(src: Sources, item: outbox.Item) -> Outgoing | None:
    """Someone on the waiting list got a place."""
    found = await _activity(src, item)
    if found is None:
        return None
    activity, t = found
    head = t.raw("A place became free: you are now coming to this activity.")
    return Outgoing(
        activity_views.headed(head, t, activity, src.settings.tz),
        activity_views.change_of_mind(t, activity.ref, activity_views.COMING),
    )


async def activity_reminder(src: Sources, item: outbox.Item) -> Outgoing | None:
    """The day before: a reminder to those coming."""
    found = await _activity(src, item)
    if found is None:
        return None
    activity, t = found
    return Outgoing(
        activity_views.headed(t.raw("Reminder: see you there!"), t, activity, src.settings.tz),
        activity_views.change_of_mind(t, activity.ref, activity_views.COMING),
    )


async def activity_changed(src: Sources, item: outbox.Item) -> Outgoing | None:
    """Those coming and waiting are shown the new time or place."""
    found = await _activity(src, item)
    if found is None:
        return None
    activity, t = found
    head = t.raw("This activity was changed: please check the new details.")
    return Outgoing(activity_views.headed(head, t, activity, src.settings.tz))


async def activity_cancelled(src: Sources, item: outbox.Item) -> Outgoing | None:
    """Those coming and waiting are told the activity is cancelled."""
    found = await _activity(src, item, to_come=False)
    if found is None:
        return None
    activity, t = found
    head = t.raw("This activity is cancelled. We hope to see you at the next one.")
    return Outgoing(activity_views.headed(head, t, activity, src.settings.tz))


async def activity_counts(src: Sources, item: outbox.Item) -> Outgoing | None:
    """The member's counts message shows the counts as they are now, edited in place."""
    if item.activity_id is None or src.activities is None:
        return None
    activity = await src.activities.by_id(item.activity_id)
    shown = await src.activities.counts_message(item.activity_id)
    if activity is None or shown is None:
        return None
    t = src.i18n.get(await src.people.language(item.chat_id) or src.settings.committee_language)
    counts = await src.activities.counts(activity.id)
    text = activity_views.counts_text(t, src.forms["volunteer"], activity, counts, src.settings.tz)
    markup = activity_views.counts_keyboard(t, activity)
    return Outgoing(text, markup, edit=shown.message_id)


RENDERERS: dict[Kind, Renderer] = {
    Kind.COMMITTEE_CARD: committee_card,
    Kind.CARD_UPDATE: card_update,
    Kind.FAMILY_NOTICE: family_notice,
    Kind.MEMBER_NOTICE: member_notice,
    Kind.SUPPORT_END: support_end,
    Kind.TASK_OFFER: task_offer,
    Kind.TASK_PROMOTED: task_promoted,
    Kind.TASK_REMINDER: task_reminder,
    Kind.TASK_FOLLOWUP: task_followup,
    Kind.TASK_DROPOUT: task_dropout,
    Kind.TASK_OUTCOME: task_outcome,
    Kind.TASK_CANCELLED: task_cancelled,
    Kind.TASK_CHANGED: task_changed,
    Kind.TASK_OFFER_ANSWER: task_offer_answer,
    Kind.VOLUNTEER_CARD: volunteer_card,
    Kind.VOLUNTEER_CARD_UPDATE: volunteer_card_update,
    Kind.VOLUNTEER_NOTICE: volunteer_notice,
    Kind.SUPPORT_RECEIPT: support_receipt,
    Kind.SUPPORT_ALERT: support_alert,
    Kind.FEEDBACK_NOTICE: feedback_notice,
    Kind.FEEDBACK_ANSWER: feedback_answer,
    Kind.FEEDBACK_CLOSED: feedback_closed,
    Kind.SUPPORT_FOLLOWUP: support_followup,
    Kind.ACTIVITY_ANNOUNCEMENT: activity_announcement,
    Kind.ACTIVITY_PROMOTED: activity_promoted,
    Kind.ACTIVITY_REMINDER: activity_reminder,
    Kind.ACTIVITY_CHANGED: activity_changed,
    Kind.ACTIVITY_CANCELLED: activity_cancelled,
    Kind.ACTIVITY_COUNTS: activity_counts,
}


async def members_only(renderer: Renderer, src: Sources, item: outbox.Item) -> Outgoing | None:
    """``renderer``'s message, or None when its recipient is not a committee member now.

    Checked when the message is sent, not when it was queued: a member removed from the list
    since gets nothing, whatever queued it.
    """
    if not src.settings.is_member(item.chat_id):
        return None
    return await renderer(src, item)


def register(delivery: Delivery, sources: Sources) -> None:
    """Give the delivery worker each kind's renderer, reading from ``sources``; the kinds
    only members may receive are checked for membership at send time."""
    for kind, renderer in RENDERERS.items():
        if kind in MEMBER_KINDS:
            delivery.register(kind, partial(members_only, renderer, sources))
        else:
            delivery.register(kind, partial(renderer, sources))
