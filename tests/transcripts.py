"""Transcripts of the main conversations, in every language, as one page to read in a browser.

``make transcripts`` (``.venv/bin/python -m tests.transcripts [--out PATH]``) walks each flow
on the in-process fake Telegram, with the real application, as the tests do (the family's
intake with the usual mistakes, the decision notices, a volunteer's registration, a task offer
and a reminder), once per catalog in ``locales/``, and writes ``build/transcripts.html``: one
section per flow and language, each action of the person and each thing the bot showed in
order, like a chat. It is for translators and the committee, who review wording and flow
without running the bot: the bot's Telegram HTML is rendered, buttons are shown under their
message (struck through once the bot removed them), edits and popups are marked as such, and
right-to-left languages are laid out right to left. Names and numbers are made up.

What happens outside the person's chat (a committee member deciding, a task being published)
is told in a short note in English. The exit status is 1 when a flow could not be walked (a
button the walk expected was not there): the page then shows where it stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import logging
import re
import sys
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel import Locale
from cryptography.fernet import Fernet
from telegram import Update

from bot import reminders
from bot.i18n import available_languages
from tests.conftest import COMMITTEE_CHAT, MEMBER, Harness, make_settings, start_app, stop_app
from tests.fakes.records import Call
from tests.fakes.telegram import FakeTelegram
from tests.flows import Answers, full_intake, script
from tests.test_review import approve
from tests.test_tasks import new_task, reminder_ids, volunteer
from tests.test_volunteers import REGISTRATION

DEFAULT_OUT = Path("build/transcripts.html")

NAMES = {"ar": "سلمى التجريبية", "en": "Salma Example"}
"""The family's name, made up, in the language of the walk (English for other catalogs)."""
OTHER_SITUATION = {"ar": "فقد الأب عمله منذ سنة", "en": "The father lost his job a year ago"}
STORY = {
    "ar": "نحتاج مساعدة في أجرة البيت لبضعة أشهر",
    "en": "We need help with the rent for a few months",
}
ANSWER = {"ar": "نعم، في مستشفى البشير كل ثلاثاء", "en": "Yes, at the hospital every Tuesday"}
MEMBER_MESSAGE = {"ar": "سنتصل بكم صباح الأحد.", "en": "We will call you on Sunday morning."}
MEMBER_QUESTION = {
    "ar": "هل يُعالَج المرض في مستشفى؟",
    "en": "Is the illness treated at a hospital?",
}
VOLUNTEER_NAME = {"ar": "عمر المثال", "en": "Omar Example"}


def said(texts: Mapping[str, str], lang: str) -> str:
    """The text for ``lang``, English for a catalog without one."""
    return texts.get(lang, texts["en"])


# --------------------------------------------------------------------------------------------
# Recording one person's chat
# --------------------------------------------------------------------------------------------


@dataclass
class Action:
    """What the person did: a text, a sticker, or a tap on a button."""

    text: str
    kind: str = "text"  # text, sticker, press
    message_id: int | None = None
    data: str | None = None


@dataclass
class Note:
    """What happened elsewhere (a member decided...), in English."""

    text: str


Event = Action | Note | Call


class Chat:
    """One person's private chat with the bot, recorded as they act."""

    def __init__(self, h: Harness, user: int, lang: str) -> None:
        self.h = h
        self.user = user
        self.lang = lang
        h.languages[user] = lang
        self.events: list[Event] = []
        self._mark = len(h.fake.calls)
        self._queries: set[str] = set()

    def collect(self) -> None:
        """Add the bot's calls since the last look that showed something to this person."""
        calls = self.h.fake.calls
        for call in calls[self._mark :]:
            if not call.ok:
                continue
            if call.method == "answerCallbackQuery":
                if str(call.params.get("callback_query_id")) in self._queries:
                    self.events.append(call)
            elif call.chat_id == self.user and call.method != "sendChatAction":
                self.events.append(call)
        self._mark = len(calls)

    async def _feed(self, action: Action, update: Update) -> None:
        self.collect()
        self.events.append(action)
        await self.h.feed(update)
        self.collect()

    async def say(self, text: str) -> None:
        """The person sends a text."""
        update = self.h.updates.text(self.user, text, language_code=self.lang)
        await self._feed(Action(text), update)

    async def sticker(self) -> None:
        """The person sends a sticker."""
        update = self.h.updates.sticker(self.user, language_code=self.lang)
        await self._feed(Action("👍", kind="sticker"), update)

    async def press(self, pattern: str) -> None:
        """The person taps the newest button on screen whose callback_data matches."""
        message_id, data = self.h.find_button(self.user, pattern)
        message = self.h.fake.message(self.user, message_id) or {}
        label = next((t for t, d in self.h.fake.buttons(message) if d == data), data)
        update = self.h.updates.callback(
            self.user, data, message_id=message_id, language_code=self.lang
        )
        assert update.callback_query is not None
        self._queries.add(update.callback_query.id)
        await self._feed(Action(label, kind="press", message_id=message_id, data=data), update)

    async def act(self, step: tuple[str, str]) -> None:
        """One step of a script of ``tests.flows``: ("press", regex) or ("say", text)."""
        kind, value = step
        await (self.press(value) if kind == "press" else self.say(value))

    async def elsewhere(self, note: str, action: Awaitable[object]) -> None:
        """Something happens outside the chat; what it shows here is recorded after the note."""
        self.collect()
        self.events.append(Note(note))
        await action
        await self.h.services.delivery.wait_idle()
        self.collect()


# --------------------------------------------------------------------------------------------
# The flows
# --------------------------------------------------------------------------------------------


@dataclass
class Ids:
    """A fresh user id for each walk, and the chat recorded last (shown if a walk stops)."""

    next_id: int = 70_000
    latest: Chat | None = None

    def take(self) -> int:
        """The next id."""
        self.next_id += 1
        return self.next_id

    def chat(self, h: Harness, lang: str, user: int | None = None) -> Chat:
        """A new recorded chat, of a new person unless ``user`` is given."""
        self.latest = Chat(h, self.take() if user is None else user, lang)
        return self.latest


async def intake(h: Harness, lang: str, ids: Ids) -> Chat:
    """A family applies and makes the usual mistakes: a sticker where a text is expected, a
    text where buttons are, a number out of range; and goes back once."""
    chat = ids.chat(h, lang)
    answers = Answers(
        name=said(NAMES, lang),
        area_choice="north",
        other=said(OTHER_SITUATION, lang),
        story=said(STORY, lang),
    )
    await chat.say("/start")
    await chat.say("/apply")
    await chat.press(r"^ic:y$")
    typed_instead = False
    for kind, value in script(answers):
        if kind == "say" and value == answers.other:
            await chat.sticker()
        if value.startswith(":support:o:") and not typed_instead:
            await chat.say("?")  # typed where buttons are expected
            typed_instead = True
        if kind == "say" and value == answers.household:
            await chat.say("99")  # more people than the question allows
        if value.startswith(":children:n:"):
            await chat.press(r":children:b:")  # back to the household, answered again
            await chat.say(answers.household)
        await chat.act((kind, value))
    await chat.press(r":review:S:$")
    return chat


async def applied(h: Harness, lang: str, ids: Ids) -> tuple[Chat, str]:
    """A family that has applied (not recorded) and whose chat is recorded from now on."""
    user = ids.take()
    h.languages[user] = lang
    ref = await full_intake(h, user, Answers(name=said(NAMES, lang), area_choice="north"))
    await h.say(MEMBER, "/start")
    return ids.chat(h, lang, user), ref


async def approved(h: Harness, lang: str, ids: Ids) -> Chat:
    """The committee approves a case; the family is told."""
    chat, ref = await applied(h, lang, ids)
    await chat.elsewhere(
        "A committee member approves the case: the support asked, for 3 months, with a "
        "message to the family.",
        approve(h, ref, message=said(MEMBER_MESSAGE, lang)),
    )
    return chat


async def declined(h: Harness, lang: str, ids: Ids) -> Chat:
    """The committee declines a case (not debt relief); the family is told."""
    chat, ref = await applied(h, lang, ids)

    async def decline() -> None:
        await h.press(MEMBER, rf"^cv:decline:{ref}$", chat_id=COMMITTEE_CHAT)
        await h.press(MEMBER, r"^rv:r:debt$")
        await h.press(MEMBER, r"^rv:skip:$")
        await h.press(MEMBER, r"^rv:ok:$")

    await chat.elsewhere(
        "A committee member declines the case: the program is not debt relief.", decline()
    )
    return chat


async def more_information(h: Harness, lang: str, ids: Ids) -> Chat:
    """The committee asks the family a question; the family answers it."""
    chat, ref = await applied(h, lang, ids)

    async def ask() -> None:
        await h.press(MEMBER, rf"^cv:ask:{ref}$", chat_id=COMMITTEE_CHAT)
        await h.say(MEMBER, said(MEMBER_QUESTION, lang))

    await chat.elsewhere("A committee member asks the family a question.", ask())
    await chat.press(r"^fa:\d+$")
    await chat.say(said(ANSWER, lang))
    return chat


async def registration(h: Harness, lang: str, ids: Ids) -> Chat:
    """A volunteer registers; a member approves them."""
    chat = ids.chat(h, lang)
    await chat.say("/volunteer")
    await chat.press(r"^vo:y$")
    steps = list(REGISTRATION)
    steps[0] = ("say", said(VOLUNTEER_NAME, lang))
    for step in steps:
        await chat.act(step)
    await chat.press(r":review:S:$")

    async def approve_card() -> None:
        _, data = h.find_button(COMMITTEE_CHAT, r"^vv:a:")
        await h.press(MEMBER, rf"^{data}$", chat_id=COMMITTEE_CHAT)

    await chat.elsewhere("A committee member approves the volunteer.", approve_card())
    return chat


async def offered(h: Harness, lang: str, ids: Ids) -> tuple[Chat, str]:
    """A registered volunteer (not recorded) is offered a task and accepts it."""
    user = ids.take()
    await volunteer(h, user, lang)
    chat = ids.chat(h, lang, user)
    published: list[str] = []

    async def publish() -> None:
        published.append(await new_task(h, needed=2))

    await chat.elsewhere(
        "A committee member publishes a task for drivers in the north, tomorrow at 10:00.",
        publish(),
    )
    await chat.press(rf"^tk:a:{published[0]}$")
    return chat, published[0]


async def offer(h: Harness, lang: str, ids: Ids) -> Chat:
    """A task offer, accepted."""
    chat, _ = await offered(h, lang, ids)
    return chat


async def reminder(h: Harness, lang: str, ids: Ids) -> Chat:
    """The reminder before an accepted task; the volunteer says they are coming."""
    first, ref = await offered(h, lang, ids)
    chat = ids.chat(h, lang, first.user)

    async def remind() -> None:
        due = await reminder_ids(h, "task_reminder", chat.user)
        await reminders.claim(h.services, due[0])
        await h.services.delivery.flush()

    await chat.elsewhere("The day before the task, its reminder is due.", remind())
    await chat.press(rf"^tk:c:{ref}$")
    return chat


Flow = Callable[[Harness, str, Ids], Awaitable[Chat]]

FLOWS: tuple[tuple[str, str, Flow], ...] = (
    ("intake", "A family applies, with the usual mistakes", intake),
    ("approved", "Decision: approved", approved),
    ("declined", "Decision: declined", declined),
    ("question", "Decision: more information asked and answered", more_information),
    ("volunteer", "A volunteer registers", registration),
    ("offer", "A task offer, accepted", offer),
    ("reminder", "A reminder before the task", reminder),
)
"""``(id, title, walk)`` of each flow, in the order of the page."""


@dataclass
class Section:
    """One flow in one language, as recorded."""

    flow: str
    title: str
    lang: str
    events: list[Event] = field(default_factory=list)
    failed: str | None = None


async def record(data_dir: Path, languages: tuple[str, ...]) -> list[Section]:
    """Walk every flow in every language on one running bot."""
    settings = make_settings(data_dir, ENCRYPTION_KEY=Fernet.generate_key().decode())
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    ids = Ids()
    sections = []
    try:
        for flow, title, walk in FLOWS:
            for lang in languages:
                section = Section(flow, title, lang)
                ids.latest = None
                try:
                    section.events = (await walk(h, lang, ids)).events
                except Exception as error:  # shown on the page; the exit status is 1
                    section.failed = f"{type(error).__name__}: {error}"
                    section.events = ids.latest.events if ids.latest is not None else []
                sections.append(section)
    finally:
        await stop_app(app)
    return sections


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


def message_id(call: Call) -> int | None:
    """The message a call shows or changes."""
    if call.method.startswith("send") and isinstance(call.result, dict):
        return int(call.result["message_id"])
    value = call.params.get("message_id")
    return None if value is None else int(value)


def direction(lang: str) -> str:
    """``rtl`` or ``ltr``, from the language's locale data."""
    try:
        order = Locale.parse(lang).character_order
    except (ValueError, LookupError):
        return "ltr"
    return "rtl" if order == "right-to-left" else "ltr"


def native_name(lang: str) -> str:
    """The language's name in itself."""
    try:
        return str(Locale.parse(lang).get_display_name(lang) or lang)
    except (ValueError, LookupError):
        return lang


def button_key(button: Mapping[str, Any]) -> str:
    """What identifies a button across edits: its callback_data, else its label."""
    data = button.get("callback_data")
    return f"data:{data}" if data is not None else f"text:{button.get('text')}"


def inline_buttons(markup: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The inline buttons of a reply_markup, row by row."""
    if not markup:
        return []
    return [button for row in markup.get("inline_keyboard") or [] for button in row]


def keyboard_html(markup: Mapping[str, Any] | None, gone: set[str], pressed: set[str]) -> str:
    """The buttons of one version of a message; those in ``gone`` were removed later."""
    if not markup:
        return ""
    rows_html = []
    if "inline_keyboard" in markup:
        for row in markup["inline_keyboard"]:
            cells = []
            for button in row:
                key = button_key(button)
                classes = "button"
                classes += " removed" if key in gone else ""
                classes += " pressed" if key in pressed else ""
                link = "" if button.get("callback_data") is not None else " ↗"
                label = html.escape(str(button.get("text")))
                cells.append(f'<span class="{classes}">{label}{link}</span>')
            rows_html.append(f'<div class="row">{"".join(cells)}</div>')
        return f'<div class="keyboard">{"".join(rows_html)}</div>'
    if "keyboard" in markup:
        for row in markup["keyboard"]:
            cells = [
                f'<span class="button">{html.escape(str(b.get("text", b)))}</span>'
                for b in (row if isinstance(row, list) else [])
                if isinstance(b, Mapping)
            ]
            rows_html.append(f'<div class="row">{"".join(cells)}</div>')
        return (
            f'<div class="keyboard reply"><small lang="en" dir="ltr">keyboard under the '
            f"typing field</small>{''.join(rows_html)}</div>"
        )
    if markup.get("remove_keyboard"):
        return '<div class="keyboard-note" lang="en" dir="ltr">(keyboard removed)</div>'
    return ""


def relabelled(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> str | None:
    """For an edit that keeps the same buttons, the labels it changed (HTML); else None."""
    old, new = inline_buttons(before), inline_buttons(after)
    if not old or [button_key(b) for b in old] != [button_key(b) for b in new]:
        return None
    changes = [
        f'<span class="button">{html.escape(str(a.get("text")))}</span> → '
        f'<span class="button">{html.escape(str(b.get("text")))}</span>'
        for a, b in zip(old, new, strict=True)
        if a.get("text") != b.get("text")
    ]
    if not changes:
        return '<span lang="en" dir="ltr">no visible change</span>'
    return "<br>".join(changes)


def body_html(call: Call) -> str:
    """A message's text or caption, as Telegram shows its HTML (the fake has validated it)."""
    text = call.text
    media = ""
    for kind in ("voice", "photo", "document", "audio", "video", "sticker", "location"):
        if call.method.lower() == f"send{kind}":
            media = f'<div class="media" lang="en" dir="ltr">[{kind}]</div>'
    if text is None:
        return media
    if call.params.get("parse_mode") != "HTML":
        text = html.escape(text)
    return f'{media}<div class="text" dir="auto">{text}</div>'


TAGS = re.compile(r"<[^>]*>")


def preview(call: Call | None) -> str:
    """The first words of a message, plain, for "edits «…»"."""
    plain = " ".join(html.unescape(TAGS.sub("", (call.text or "") if call else "")).split())
    return plain[:50] + ("…" if len(plain) > 50 else "")


@dataclass
class Versions:
    """What the chat shows of each message along the way."""

    markup: dict[int, dict[str, Any] | None] = field(default_factory=dict)  # so far
    final: dict[int, set[str]] = field(default_factory=dict)  # buttons left at the end
    pressed: dict[int, set[str]] = field(default_factory=dict)  # event index -> pressed keys
    first: dict[int, Call] = field(default_factory=dict)  # message id -> the send


def survey(events: list[Event]) -> Versions:
    """The buttons each message keeps at the end, and which version each tap was made on."""
    seen = Versions()
    latest: dict[int, int] = {}  # message id -> index of its current version
    for index, event in enumerate(events):
        if isinstance(event, Call) and event.method != "answerCallbackQuery":
            mid = message_id(event)
            if mid is None:
                continue
            latest[mid] = index
            if event.method == "deleteMessage":
                seen.final[mid] = set()
            else:
                seen.final[mid] = {button_key(b) for b in inline_buttons(event.reply_markup)}
        elif isinstance(event, Action) and event.message_id is not None and event.data:
            version = latest.get(event.message_id)
            if version is not None:
                seen.pressed.setdefault(version, set()).add(f"data:{event.data}")
    return seen


def chat_html(events: list[Event]) -> str:
    """The bubbles of one chat, in order."""
    seen = survey(events)
    out = []
    last_sent: int | None = None
    for index, event in enumerate(events):
        if isinstance(event, Note):
            out.append(f'<p class="note" lang="en" dir="ltr">{html.escape(event.text)}</p>')
        elif isinstance(event, Action):
            out.append(person_html(event))
        elif event.method == "answerCallbackQuery":
            out.append(popup_html(event))
        else:
            mid = message_id(event)
            out.append(bot_html(event, mid, index, seen, mid is not None and mid == last_sent))
            if event.method.startswith("send") and mid is not None:
                seen.first[mid] = event
                last_sent = mid
            if mid is not None:
                seen.markup[mid] = event.reply_markup
    return "\n".join(part for part in out if part)


def person_html(action: Action) -> str:
    """What the person sent or tapped."""
    if action.kind == "press":
        inner = f'<span class="tap">{html.escape(action.text)}</span>'
    elif action.kind == "sticker":
        inner = f'<span class="sticker">{action.text}</span> <small>sticker</small>'
    else:
        inner = html.escape(action.text)
    return f'<div class="bubble person"><span dir="auto">{inner}</span></div>'


def popup_html(call: Call) -> str:
    """A tap's answer, when it shows a popup."""
    text = str(call.params.get("text") or "")
    if not text:
        return ""
    kind = "alert" if call.params.get("show_alert") else "popup"
    return (
        f'<div class="popup"><small lang="en" dir="ltr">{kind}</small>'
        f'<span dir="auto">{html.escape(text)}</span></div>'
    )


def bot_html(call: Call, mid: int | None, index: int, seen: Versions, above: bool) -> str:
    """A message the bot sent, or what it changed in one."""
    gone = {button_key(b) for b in inline_buttons(call.reply_markup)} - seen.final.get(
        mid or 0, set()
    )
    keys = keyboard_html(call.reply_markup, gone, seen.pressed.get(index, set()))
    if call.method.startswith("send"):
        return f'<div class="bubble bot">{body_html(call)}{keys}</div>'
    original = seen.first.get(mid) if mid is not None else None
    where = "the message above" if above else f"«<bdi>{html.escape(preview(original))}</bdi>»"
    if call.method == "deleteMessage":
        return f'<div class="edit-note" lang="en" dir="ltr">✖ deletes {where}</div>'
    if call.method == "editMessageReplyMarkup":
        before = seen.markup.get(mid) if mid is not None else None
        changes = relabelled(before, call.reply_markup)
        if changes is not None:
            return (
                f'<div class="bubble bot edit small"><div class="edited" lang="en" dir="ltr">'
                f"✎ buttons of {where}</div>{changes}</div>"
            )
        if not keys:
            return (
                f'<div class="edit-note" lang="en" dir="ltr">✎ removes the buttons of '
                f"{where}</div>"
            )
        label = f'<div class="edited" lang="en" dir="ltr">✎ new buttons for {where}</div>'
        return f'<div class="bubble bot edit">{label}{keys}</div>'
    label = f'<div class="edited" lang="en" dir="ltr">✎ edits {where}</div>'
    return f'<div class="bubble bot edit">{label}{body_html(call)}{keys}</div>'


STYLE = """
body { font-family: "Noto Sans", "DejaVu Sans", Arial, sans-serif; background: #e9eef2;
  margin: 0; color: #1b1f23; }
header { background: #2b5278; color: #fff; padding: 16px 24px; }
header h1 { margin: 0 0 6px; font-size: 22px; }
header p { margin: 0; max-width: 80ch; line-height: 1.4; }
header code { background: none; color: #fff; font-weight: bold; }
nav { padding: 12px 24px; background: #fff; border-bottom: 1px solid #cfd8dc; }
nav table { border-collapse: collapse; }
nav td, nav th { padding: 3px 12px 3px 0; text-align: start; }
main { display: flex; flex-wrap: wrap; gap: 24px; padding: 24px; align-items: flex-start; }
section.chat { background: #cfe0c3; border-radius: 10px; padding: 12px 14px 18px;
  width: 520px; box-shadow: 0 1px 3px rgba(0,0,0,.2); }
section.chat h2 { font-size: 16px; margin: 0 0 10px; color: #234; }
section.chat h2 small { font-weight: normal; color: #456; }
.bubble { max-width: 85%; margin: 6px 0; padding: 7px 10px; border-radius: 10px;
  line-height: 1.45; box-shadow: 0 1px 1px rgba(0,0,0,.15); width: fit-content; }
.bubble.bot { background: #fff; margin-inline-end: auto; border-end-start-radius: 2px; }
.bubble.person { background: #effdde; margin-inline-start: auto;
  border-end-end-radius: 2px; }
.bubble.edit { background: #fdfcf3; border: 1px dashed #b7a96b; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
.edited, .edit-note, .keyboard-note, .media { font-size: 12px; color: #8a7a32;
  margin-bottom: 3px; }
.edit-note { text-align: center; margin: 4px auto; }
.keyboard { margin-top: 6px; }
.keyboard .row { display: flex; gap: 4px; margin-top: 4px; }
.keyboard .button { flex: 1; text-align: center; background: #e3edf7; color: #2b5278;
  border-radius: 6px; padding: 5px 6px; font-size: 14px; }
.keyboard .button.pressed { outline: 2px solid #2b5278; }
.keyboard .button.removed { background: #eee; color: #999; text-decoration: line-through; }
.bubble.small { font-size: 13px; }
.bubble.small .button { display: inline-block; background: #e3edf7; color: #2b5278;
  border-radius: 6px; padding: 1px 6px; margin: 1px 0; }
.keyboard.reply .button { background: #dfe6e9; color: #333; }
.keyboard small { color: #777; }
.tap { display: inline-block; border: 1px solid #2b5278; border-radius: 6px;
  padding: 1px 8px; color: #2b5278; }
.tap::before { content: "👆 "; }
.sticker { font-size: 30px; }
.popup { margin: 6px auto; width: fit-content; max-width: 80%; background: rgba(0,0,0,.7);
  color: #fff; border-radius: 14px; padding: 5px 12px; font-size: 14px; }
.popup small { color: #ccc; margin-inline-end: 6px; }
.note { font-size: 13px; color: #37474f; background: rgba(255,255,255,.55);
  border-radius: 8px; padding: 4px 10px; margin: 10px auto; text-align: center;
  width: fit-content; max-width: 90%; font-style: italic; }
.note.error { background: #ffebee; color: #b71c1c; font-style: normal; }
blockquote { border-inline-start: 3px solid #2b5278; margin: 4px 0; padding-inline-start: 8px; }
code, pre { font-family: "DejaVu Sans Mono", monospace; background: #f1f3f4;
  padding: 0 3px; border-radius: 3px; }
tg-spoiler, span.tg-spoiler { background: #ccc; }
"""


def page(sections: list[Section], languages: tuple[str, ...]) -> str:
    """The whole HTML page."""
    titles = {flow: title for flow, title, _ in FLOWS}
    head = "".join(f"<th>{html.escape(native_name(lang))} ({lang})</th>" for lang in languages)
    rows = []
    for flow, title, _ in FLOWS:
        links = "".join(
            f'<td><a href="#{flow}-{lang}">{html.escape(lang)}</a></td>' for lang in languages
        )
        rows.append(f"<tr><td>{html.escape(title)}</td>{links}</tr>")
    parts = []
    for section in sections:
        dir_ = direction(section.lang)
        body = chat_html(section.events)
        if section.failed is not None:
            body += (
                f'\n<p class="note error" lang="en" dir="ltr">The walk stopped here: '
                f"{html.escape(section.failed)}</p>"
            )
        parts.append(
            f'<section class="chat" id="{section.flow}-{section.lang}" lang="{section.lang}" '
            f'dir="{dir_}" data-flow="{section.flow}">\n'
            f'<h2 lang="en" dir="ltr">{html.escape(titles[section.flow])} '
            f"<small>· {html.escape(native_name(section.lang))} ({section.lang})</small></h2>\n"
            f"{body}\n</section>"
        )
    return f"""<!DOCTYPE html>
<html lang="en" dir="ltr">
<head>
<meta charset="utf-8">
<title>Sanad: conversation transcripts</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>Sanad: conversation transcripts</h1>
<p>Each section is one conversation, walked by <code>make transcripts</code> on a fake
Telegram with the real bot: the person's messages and taps on the end side, the bot's
messages on the start side, buttons under their message (struck through once the bot removed
them, the tapped one outlined), edits and popups marked. Names and numbers are made up.</p>
</header>
<nav><table><tr><th>Conversation</th>{head}</tr>{"".join(rows)}</table></nav>
<main>
{chr(10).join(parts)}
</main>
</body>
</html>
"""


def write(out: Path, data_dir: Path) -> list[Section]:
    """Record every flow in every language and write the page to ``out``."""
    languages = available_languages()
    sections = asyncio.run(record(data_dir, languages))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page(sections, languages), encoding="utf-8")
    return sections


def main(argv: list[str] | None = None) -> int:
    """Write the page; 1 if a flow could not be walked."""
    parser = argparse.ArgumentParser(description="Write the conversations as an HTML page.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"({DEFAULT_OUT})")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sanad-transcripts-") as tmp:
        sections = write(args.out, Path(tmp) / "data")
    failed = [s for s in sections if s.failed is not None]
    for section in failed:
        print(f"{section.flow} ({section.lang}): {section.failed}", file=sys.stderr)
    print(f"{args.out}: {len(sections)} conversations, {len(failed)} could not be walked")
    return 1 if failed else 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
