"""Typed callback data: one class per family of buttons, the single place where the wire
format of a button is written and read.

A family is a frozen dataclass with a ``prefix`` and ordered fields (``str`` or ``int``). On
the wire it is ``prefix:field1:field2…`` (the format buttons already sent into chats carry,
so old buttons keep working), at most 64 bytes (Telegram's limit, checked when packed).
``unpack`` gives back the typed value, or None for data that does not fit the family: a
wrong prefix, a wrong number of fields, a number that is not one, a verb the family does not
know. callback_data is chosen by the client and can be forged, so every handler starts from
``unpack`` and answers None with the one shared stale answer (``handlers.util.stale``).

    LanguageChoice       lang:<code>                      the language picker
    ConsentChoice        ic:<y|n>                         the intake's consent
    ApplyChoice          ap:<c|r|n|x>:<draft>             continue, restart or a new application
    CancelChoice         cx:<y|n>:<draft>                 delete an unfinished application?
    FormPress            in:<draft>:<step>:<verb>:<arg>   a question or the review of a form
    VolunteerPress       vo:<verb>                        the volunteer's consent and profile
    TaskAnswer           tk:<verb>:<task>                 a volunteer answers an offer or reminder
    EraseChoice          pd:<y|n>                         /delete_my_data's confirmation
    TaskWizardPress      tw:<verb>:<arg>                  the member's new-task and change wizards
    TaskManagePress      tm:<verb>:<task>                 /task's buttons
    DetailsPress         cd:<case>                        "Details" on a card
    CardPress            cv:<action>:<case>               an action on a card or a reminder
    DecisionPress        rv:<verb>:<arg>                  the decision, question and note wizards
    FamilyAnswerPress    fa:<request>                     the family answers a question
    CasesPage            cl:<status|all>:<page>           /cases pages
    ExportChoice         ex:<full|anon>[-xlsx]            /export's choice
    VettingPress         vv:<verb>:<volunteer>            a volunteer's card and /volunteers
    SupportPress         sg:<verb>:<arg>                  recording support given (members)
    ReceiptPress         sr:<y|n>:<support>               the family confirms receipt
    DuplicatePress       du:<n|m>:<flag>                  a possible duplicate: not one, or merge
    AssignPress          av:<verb>:<arg>                  /case's "Find a volunteer" and its wizard
    FeedbackPress        fw:<verb>:<arg>                  /feedback: the topic, back, cancel
    TrusteePress         ft:<verb>:<feedback>             a trustee answers, closes, listens
    FollowupPress        fu:<verb>:<followup>             the family answers the follow-up
    ActivityOptIn        ao:<y|n>                         hear about community activities?
    ActivityAnswer       aa:<c|n>:<activity>              "I'll come" / "Not this time"
    ActivityWizardPress  aw:<verb>:<arg>                  the member's new-activity wizard
    ActivityManagePress  am:<verb>:<activity>             change or cancel an activity
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, ClassVar, Self

from telegram import CallbackQuery, InlineKeyboardButton

from bot.text import MAX_CALLBACK_DATA, whole_number

SEPARATOR = ":"


@dataclasses.dataclass(frozen=True)
class CallbackData:
    """Base of every button family; subclasses are frozen dataclasses with a ``prefix``."""

    prefix: ClassVar[str]
    # When set, the first field must be one of these (a verb or a choice).
    verbs: ClassVar[frozenset[str] | None] = None

    def pack(self) -> str:
        """The callback_data: refused when a field holds the separator or it exceeds 64 bytes."""
        parts = [self.prefix]
        for field in dataclasses.fields(self):
            value = str(getattr(self, field.name))
            if SEPARATOR in value:
                raise ValueError(f"{type(self).__name__}.{field.name} holds {SEPARATOR!r}")
            parts.append(value)
        data = SEPARATOR.join(parts)
        if len(data.encode("utf-8")) > MAX_CALLBACK_DATA:
            raise ValueError(f"{type(self).__name__} callback_data over 64 bytes")
        return data

    def button(self, label: str) -> InlineKeyboardButton:
        """An inline button carrying this data."""
        return InlineKeyboardButton(label, callback_data=self.pack())

    @classmethod
    def unpack(cls, data: str | None) -> Self | None:
        """The typed value of ``data``, or None when it is not a button of this family."""
        if data is None:
            return None
        parts = data.split(SEPARATOR)
        fields = dataclasses.fields(cls)
        if parts[0] != cls.prefix or len(parts) != len(fields) + 1:
            return None
        values: dict[str, Any] = {}
        for field, text in zip(fields, parts[1:], strict=True):
            if field.type in (int, "int"):
                number = whole_number(text)
                if number is None:
                    return None
                values[field.name] = number
            else:
                values[field.name] = text
        if cls.verbs is not None and values[fields[0].name] not in cls.verbs:
            return None
        return cls(**values)

    @classmethod
    def pattern(cls) -> re.Pattern[str]:
        """What a CallbackQueryHandler matches to route this family's presses: the prefix and
        its separator, as every packed value starts (data that is only the prefix is nobody's
        button and goes to the catch-all, as it always did)."""
        return re.compile(rf"^{re.escape(cls.prefix)}{SEPARATOR}")


@dataclasses.dataclass(frozen=True)
class LanguageChoice(CallbackData):
    """A language in the picker."""

    prefix = "lang"
    lang: str


@dataclasses.dataclass(frozen=True)
class ConsentChoice(CallbackData):
    """The family agrees to the intake's terms (y), agrees but would rather be called (c), reads
    the privacy details (p), or not now (n)."""

    prefix = "ic"
    verbs = frozenset({"y", "c", "p", "n"})
    choice: str


@dataclasses.dataclass(frozen=True)
class ApplyChoice(CallbackData):
    """/apply with an application under way: continue (c), restart (r); or with an open case:
    a new application (n), or not (x); or the welcome's "Apply for support" (a). ``draft`` is
    '' when there is none."""

    prefix = "ap"
    verbs = frozenset({"c", "r", "n", "x", "a"})
    verb: str
    draft: str


@dataclasses.dataclass(frozen=True)
class CancelChoice(CallbackData):
    """/cancel: delete the unfinished application (y) or keep it (n)."""

    prefix = "cx"
    verbs = frozenset({"y", "n"})
    verb: str
    draft: str


@dataclasses.dataclass(frozen=True)
class FormPress(CallbackData):
    """A button of a form question or of its review: the draft and step it belongs to, so a
    press on an old question is recognised. Verbs: b back, k keep, o option, d done, n number,
    s skip, p share the phone number, c call me instead, f the full form after all; on the
    review e edit, S submit, X cancel."""

    prefix = "in"
    draft: str
    step: str
    verb: str
    arg: str


@dataclasses.dataclass(frozen=True)
class VolunteerPress(CallbackData):
    """Volunteer registration and profile: y agree, n not now, p pause, r resume, e edit,
    l leave, L confirm leaving, k keep."""

    prefix = "vo"
    verbs = frozenset({"y", "n", "p", "r", "e", "l", "L", "k"})
    verb: str


@dataclasses.dataclass(frozen=True)
class TaskAnswer(CallbackData):
    """A volunteer's answer about a task: a accept, d decline, c coming, w can't make it,
    y done, n did not happen. The verb is not restricted here: the handler first tells a
    person who is not an active volunteer so, whatever the button, then refuses a stale verb."""

    prefix = "tk"
    verb: str
    task: str


@dataclasses.dataclass(frozen=True)
class EraseChoice(CallbackData):
    """/delete_my_data: erase (y) or keep (n)."""

    prefix = "pd"
    verbs = frozenset({"y", "n"})
    choice: str


@dataclasses.dataclass(frozen=True)
class TaskWizardPress(CallbackData):
    """A button of the member's task wizard (s skill, a area, d day, t time, u duration,
    n volunteers needed, c skip the case, p publish, x cancel); ``arg`` is '' when the verb
    needs none. The verbs a press may use depend on the wizard's step, checked there."""

    prefix = "tw"
    verb: str
    arg: str


@dataclasses.dataclass(frozen=True)
class TaskManagePress(CallbackData):
    """/task's buttons: t change the time, d change the description, x cancel the task, then
    X cancel it indeed or k keep it. Not restricted: the handler checks the task first, and
    any other verb keeps it."""

    prefix = "tm"
    verb: str
    task: str


@dataclasses.dataclass(frozen=True)
class DetailsPress(CallbackData):
    """The Details button on a committee card."""

    prefix = "cd"
    case: str


@dataclasses.dataclass(frozen=True)
class CardPress(CallbackData):
    """An action on a case from its card or a support-end reminder (checked against the
    case's status on the server)."""

    prefix = "cv"
    action: str
    case: str


@dataclasses.dataclass(frozen=True)
class DecisionPress(CallbackData):
    """A button of the decision, question and note wizards (s support, sd support done,
    p period, pc another end date, r reason, skip, ok confirm, x cancel); ``arg`` is '' when
    unused. The verbs a press may use depend on the wizard's step, checked there."""

    prefix = "rv"
    verb: str
    arg: str


@dataclasses.dataclass(frozen=True)
class FamilyAnswerPress(CallbackData):
    """The family answers the committee's question ``request``."""

    prefix = "fa"
    request: int


@dataclasses.dataclass(frozen=True)
class CasesPage(CallbackData):
    """A page of /cases, filtered by status or 'all'."""

    prefix = "cl"
    key: str
    page: int


@dataclasses.dataclass(frozen=True)
class ExportChoice(CallbackData):
    """/export: the full (personal) or the anonymised file, as CSV (full, anon) or as an
    Excel workbook (full-xlsx, anon-xlsx)."""

    prefix = "ex"
    verbs = frozenset({"full", "anon", "full-xlsx", "anon-xlsx"})
    kind: str

    @property
    def full(self) -> bool:
        """Whether the export carries personal data."""
        return self.kind.startswith("full")

    @property
    def xlsx(self) -> bool:
        """Whether the export is an Excel workbook rather than CSV."""
        return self.kind.endswith("-xlsx")


@dataclasses.dataclass(frozen=True)
class VettingPress(CallbackData):
    """A member's decision on a volunteer from their card or /volunteers: a approve,
    d decline, s suspend, r restore, i details (sent privately); ``volunteer`` is their
    reference, never a Telegram id."""

    prefix = "vv"
    verbs = frozenset({"a", "d", "s", "r", "i"})
    verb: str
    volunteer: str


@dataclasses.dataclass(frozen=True)
class SupportPress(CallbackData):
    """A button of the member's support-given wizard: new (``arg`` the case), k kind,
    c currency, skip, w when (0 today, 1 yesterday, d typed), t task ('' none), ok confirm,
    x cancel. The verbs a press may use depend on the wizard's step, checked there."""

    prefix = "sg"
    verb: str
    arg: str


@dataclasses.dataclass(frozen=True)
class AssignPress(CallbackData):
    """/case's "Find a volunteer" (f, ``arg`` the case's reference) and the buttons of the
    offer wizard it opens: d day, t time, g a page of the shortlist, v a volunteer (their
    reference), u duration, p send, x cancel. The verbs a press may use depend on the
    wizard's step, checked there."""

    prefix = "av"
    verb: str
    arg: str


@dataclasses.dataclass(frozen=True)
class ReceiptPress(CallbackData):
    """The family says whether support recorded for it arrived: y received, n not."""

    prefix = "sr"
    verbs = frozenset({"y", "n"})
    verb: str
    support: int


@dataclasses.dataclass(frozen=True)
class DuplicatePress(CallbackData):
    """A member's answer to a possible duplicate shown in Details or /case: n not a
    duplicate, m merge (close the flagged case with a link to the other); ``flag`` is the
    flag's number, never a value of the case."""

    prefix = "du"
    verbs = frozenset({"n", "m"})
    verb: str
    flag: int


@dataclasses.dataclass(frozen=True)
class FeedbackPress(CallbackData):
    """/feedback's walk: t a topic (``arg``: its id), b back to the topics, x cancel."""

    prefix = "fw"
    verbs = frozenset({"t", "b", "x"})
    verb: str
    arg: str


@dataclasses.dataclass(frozen=True)
class TrusteePress(CallbackData):
    """A trustee's button under a feedback: a answer, c close, l listen to the voice note,
    s show it (from /feedbacks), k keep it unanswered (the answer's Cancel)."""

    prefix = "ft"
    verbs = frozenset({"a", "c", "l", "s", "k"})
    verb: str
    feedback: int


@dataclasses.dataclass(frozen=True)
class FollowupPress(CallbackData):
    """The family answers the follow-up at the end of its support: b better, s the same,
    w worse, k skip the words."""

    prefix = "fu"
    verbs = frozenset({"b", "s", "w", "k"})
    verb: str
    followup: int


@dataclasses.dataclass(frozen=True)
class ActivityOptIn(CallbackData):
    """Whether the person wants to hear about community activities: y yes, n no."""

    prefix = "ao"
    verbs = frozenset({"y", "n"})
    choice: str


@dataclasses.dataclass(frozen=True)
class ActivityAnswer(CallbackData):
    """An invited person's answer to an activity: c I'll come, n not this time."""

    prefix = "aa"
    verbs = frozenset({"c", "n"})
    verb: str
    activity: str


@dataclasses.dataclass(frozen=True)
class ActivityWizardPress(CallbackData):
    """A button of the member's activity wizard (d day, t time, c capacity, u audience,
    a area, p publish, x cancel); ``arg`` is '' when the verb needs none. The verbs a press
    may use depend on the wizard's step, checked there."""

    prefix = "aw"
    verb: str
    arg: str


@dataclasses.dataclass(frozen=True)
class ActivityManagePress(CallbackData):
    """The buttons of an activity's counts message: t change the time, p change the place,
    x cancel the activity, then X cancel it indeed or k keep it."""

    prefix = "am"
    verbs = frozenset({"t", "p", "x", "X", "k"})
    verb: str
    activity: str


FAMILIES: tuple[type[CallbackData], ...] = (
    LanguageChoice,
    ConsentChoice,
    ApplyChoice,
    CancelChoice,
    FormPress,
    VolunteerPress,
    TaskAnswer,
    EraseChoice,
    TaskWizardPress,
    TaskManagePress,
    DetailsPress,
    CardPress,
    DecisionPress,
    FamilyAnswerPress,
    CasesPage,
    ExportChoice,
    VettingPress,
    SupportPress,
    ReceiptPress,
    DuplicatePress,
    AssignPress,
    FeedbackPress,
    TrusteePress,
    FollowupPress,
    ActivityOptIn,
    ActivityAnswer,
    ActivityWizardPress,
    ActivityManagePress,
)


def pressed_here(query: CallbackQuery) -> bool:
    """Whether the pressed data is one of the message's own buttons: a real press always is;
    data forged onto another message (the live question, say) is not, and must not close it.

    The one comparison of raw callback data outside :meth:`CallbackData.unpack`: it asks
    whether the message shows the data, not what the data means.
    """
    markup = getattr(query.message, "reply_markup", None)
    if markup is None:
        return False
    return any(b.callback_data == query.data for row in markup.inline_keyboard for b in row)
