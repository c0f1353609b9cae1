"""Fuzz: seeded, reproducible storms of valid and hostile updates across every conversation.

Each seed builds the same cast: families at every point of the intake (nothing yet, the
consent screen, the first question, halfway, the review, a submitted case, a case the committee
asked a question about), a volunteer halfway through registration and one with an open task
offer, a member in a decision wizard, two others in /newtask, an outsider, the committee group
and a group the bot does not serve. It then feeds UPDATES_PER_SEED updates from random actors:
about half move a conversation on as a person would (press a button on screen, answer the
question asked, send a command that fits their role), so the storm reaches deep states; the
rest are hostile: random Unicode with right-to-left and zero-width marks, combining marks,
emoji and other astral characters, Arabic-Indic and odd digits, 4096- and 5000-character
texts, HTML and Markdown, commands known, unknown, with arguments or for another bot, stickers,
photos, documents, locations, contacts (one's own and others'), voice notes, edited messages,
and forged callback_data (random, known prefixes with garbage, other people's real buttons,
stale buttons, presses on the committee card).

Every update must be handled without an unhandled exception (nothing logged at ERROR), without
a call Telegram would reject, with every callback query answered exactly once, and with an
answer to every message sent in a private chat. In a group, ordinary messages (and anything
but a command) get no answer: the bot does not read group chatter and never speaks there
except for /help; a member's committee command there is answered in the member's private chat.

A failure names the seed, the step and the input: run that seed alone to reproduce it (the
storm depends only on the seed, except where a hostile press makes a task "today" and the clock
decides whether its time has passed). To
explore further, choose other seeds and longer runs, e.g.
``SANAD_FUZZ_SEEDS=$(seq -s, 100 160) SANAD_FUZZ_UPDATES=2000 pytest tests/test_fuzz.py``;
what a run finds is then replayed exactly by test_what_the_fuzz_found.
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from telegram import Update

import bot.delivery
from bot.config import Settings
from bot.intake import REVIEW, Draft
from bot.storage import sessions
from tests.conftest import COMMITTEE_CHAT, MEMBER, OTHER_MEMBER, OUTSIDER, Harness, make_settings
from tests.fakes.telegram import BOT_USERNAME, Call, FakeTelegram
from tests.flows import Answers, act, answer_all, apply_and_consent, full_intake, script
from tests.test_tasks import new_task, volunteer

SEEDS = tuple(int(s) for s in os.environ.get("SANAD_FUZZ_SEEDS", "1,2,3,4").split(","))
UPDATES_PER_SEED = int(os.environ.get("SANAD_FUZZ_UPDATES", "600"))
HOSTILE_SHARE = 0.5

F_NEW, F_CONSENT, F_START, F_MID, F_REVIEW, F_CASE, F_ASKED = range(2001, 2008)
V_NEW, V_ACTIVE = 3001, 3002
TASKER = 902  # a third member, who mostly publishes tasks
OTHER_GROUP = -1009999999999
FORGED_MESSAGES = 10_000_000  # message ids beyond any the fake allocates

COMMANDS = (
    "start", "help", "language", "apply", "cancel", "status", "volunteer", "tasks", "mydata",
    "delete_my_data", "mytasks", "newtask", "task", "case", "note", "cases", "audit", "export",
    "stats",
)  # fmt: skip
COMMITTEE_COMMANDS = frozenset(
    ("newtask", "task", "case", "note", "cases", "audit", "export", "stats")
)
PREFIXES = (
    "lang", "ic", "ap", "cx", "in", "vo", "tk", "pd", "tw", "tm", "cd", "cv", "rv", "fa", "cl",
    "ex",
)  # fmt: skip

RTL = "\u202e\u202d\u202b\u202a\u202c\u200f\u200e\u2066\u2067\u2068\u2069\u061c"
ZERO_WIDTH = "\u200b\u200c\u200d\ufeff\u2060\u00ad\u180e"
COMBINING = "\u0301\u0308\u0327\u0651\u064b\u064e\u0670\u20dd\u0489\u1ab0"
EMOJI = (
    "😀", "👨‍👩‍👧‍👦", "🇯🇴", "🇵🇸", "🏳️‍🌈", "👍🏽", "🤲🏾", "❤️", "🧕", "𝕊𝕒𝕟𝕒𝕕", "𓂀", "🀄", "𐍈",
    "\U0001f9ff", "\U0010fffd", "\U000e0041", "#️⃣", "🫶",
)  # fmt: skip
ALPHABETS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?-'\"",
    "ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأإؤئةى ًٌٍَُِّْ،؛؟",
    "אבגדהוזחטיכלמנסעפצקרשת",
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹0123456789²³¹①⑩߃𝟓५",
    "<>&\"'*_[]()~`|\\#+-=.!{}@/",
    RTL + ZERO_WIDTH,
    COMBINING,
    "\n\t\r\x00\x07\x1b\x7f\x85\u2028\u2029\u3000\xa0",
    "中文字日本語한국어ไทยΩ≈ç√∫",
)
MARKUP = (
    "<b>", "</b>", "</", "<", ">", "&", "&amp;", "&lt;", "&#0;", "&#x110000;", "&nbsp",
    "<a href='javascript:alert(1)'>x</a>", "<tg-spoiler>", "<pre><code class=\"x\">",
    "<script>", "*", "**", "_", "__", "[", "](http://x)", "(", ")", "~", "`", "```", "||",
    "\\", "\"", "'", "<br/>", "<b><i></b></i>", "{name}", "%s", "{0}", "${x}",
)  # fmt: skip
ODD_INPUT = (
    "²", "①", "¹²³", "߃", "𝟓", "५", "٣", "۵", "-1", "0", "007", "1e3", "3.5", "½", "Ⅻ", "٣٠",
    " 4 ", "4\u200b", "\u202e21", "99999999999999999999", "2027-03-31", "٢٠٢٧-٠٣-٣١",
    "9999-12-31", "0001-01-01", "2027-02-30", "2027-13-01", "31/03/2027", "2027-03-31T14:30",
    "9999-12-31 23:59", "2027-03-31 14:30", "14:30", "٢٣:٥٩", "24:00", "9", "25", "23:59:59.9",
    "+", "+962", "00962791234567", "+962 79 123 4567", "٠٧٩١٢٣٤٥٦٧", "0791234567" * 5,
    "K7P-4RD", "k7p4rd", "T-1", "ref", "NaN", "None", "null", "true", "[]", "{}",
)  # fmt: skip
PROSE = (
    "My husband is ill and cannot work",
    "زوجي مريض ولا يستطيع العمل منذ سنتين",
    "We will call you on Sunday <3 & bring the papers",
    "Do you have a medical report? *urgent*",
    "Jabal Al-Hussein",
    "Huda Al-Masri",
    "هدى <b>المصري</b>",
    "Drive a family to the hospital",
    "Pick-up at 10:00 near the mosque, back by noon.",
)
GARBAGE = (
    "", "x", "S", "e", "o", "n", "d", "b", "k", "s", "y", "L", "X", "review", "situation",
    "phone", "ok", "sd", "skip", "full", "anon", "all", "new", "approve", "take", "2", "0", "-1",
    "²", "①", "٣", "𝟓", "9999", "2400", "0960", "99999999999999999999", "00", "en", "ar", "zz",
    "None", "<b>", "😀", " ", "%", "\\", "K7P-4RD",
)  # fmt: skip
PHONES = ("0791234567", "٠٧٩٥٥٥١٢٣٤", "+962 79 555 1234", "00962791234567")
BLANKS = (" ", "\n", "\u200b", "\u200f", "\ufeff", "\u3000", "\xa0", "\x00", "\u200b" * 50)
LANGUAGE_CODES = ("en", "ar", "ar-JO", "en-GB", "fr", "zz", None)


@dataclass
class Actor:
    """Someone who sends updates: a user, in a chat (their private chat, or a group)."""

    user: int
    chat: int
    role: str  # family, volunteer, member, tasker (a member) or outsider
    lang: str | None = "en"
    weight: int = 3  # how often the actor acts, relative to the others

    @property
    def private(self) -> bool:
        """Whether the actor writes in their private chat with the bot."""
        return self.chat > 0


@dataclass
class Screen:
    """What Telegram shows, followed call by call: the live keyboards of each chat, the
    bot's messages, and every callback_data the bot ever sent (for stale and stolen presses)."""

    fake: FakeTelegram
    seen: int = 0
    live: dict[int, dict[int, list[str]]] = field(default_factory=dict)
    history: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    bot_messages: dict[int, list[int]] = field(default_factory=dict)
    every: list[str] = field(default_factory=list)

    def follow(self) -> None:
        """Take in the calls made since the last time."""
        known = set(self.every)
        for call in self.fake.calls[self.seen :]:
            result = call.result
            if not call.ok or not isinstance(result, dict) or "chat" not in result:
                continue
            chat, message_id = int(result["chat"]["id"]), int(result["message_id"])
            data = [d for _, d in FakeTelegram.buttons(result) if d is not None]
            if call.method.startswith("send"):
                self.bot_messages.setdefault(chat, []).append(message_id)
            keyboards = self.live.setdefault(chat, {})
            if data:
                keyboards[message_id] = data
            else:
                keyboards.pop(message_id, None)
            for d in data:
                self.history.setdefault(chat, []).append((message_id, d))
                if d not in known:
                    known.add(d)
                    self.every.append(d)
        self.seen = len(self.fake.calls)


@dataclass
class Outcome:
    """What a run found."""

    kinds: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    calls: int = 0
    callbacks: int = 0
    answered: int = 0
    not_modified: int = 0


class Fuzzer:
    """Builds updates for actors from one random generator, and checks what the bot did."""

    def __init__(
        self, h: Harness, rng: random.Random, actors: list[Actor], log: pytest.LogCaptureFixture
    ) -> None:
        self.h = h
        self.rng = rng
        self.actors = actors
        self.log = log
        self.outcome = Outcome()
        self.screen = Screen(h.fake)
        self.case_refs: list[str] = []
        self.task_refs: list[str] = []
        self.reached: Counter[str] = Counter()

    # --- plumbing ---------------------------------------------------------------------------

    def lang(self, actor: Actor) -> str | None:
        """Mostly the actor's own language code; now and then another one, or none."""
        return self.rng.choice(LANGUAGE_CODES) if self.rng.random() < 0.1 else actor.lang

    def text(self, actor: Actor, text: str) -> Update:
        return self.h.updates.text(
            actor.user, text, chat_id=actor.chat, language_code=self.lang(actor)
        )

    def callback(self, actor: Actor, data: str, message_id: int | None) -> Update:
        if message_id is None:
            message_id = FORGED_MESSAGES + self.rng.randrange(1_000_000)
        return self.h.updates.callback(
            actor.user,
            data,
            message_id=message_id,
            chat_id=actor.chat,
            language_code=self.lang(actor),
            first_name=self.rng.choice(("Test", "Ali <b>", "سارة", "‮evil", "x" * 64)),
        )

    async def refresh_refs(self) -> None:
        db = self.h.services.db
        self.case_refs = [
            str(r["ref"]) for r in await db.fetchall("SELECT ref FROM cases ORDER BY id")
        ]
        self.task_refs = [
            str(r["ref"]) for r in await db.fetchall("SELECT ref FROM tasks ORDER BY id")
        ]

    def some_ref(self) -> str:
        pool = self.case_refs or ["K7P-4RD"]
        return self.rng.choice(pool)

    def some_task(self) -> str:
        pool = self.task_refs or ["T-1"]
        return self.rng.choice(pool)

    def live_buttons(self, actor: Actor, prefix: str = "") -> list[tuple[int, str]]:
        """The buttons on screen in the actor's chat, newest message first."""
        keyboards = self.screen.live.get(actor.chat, {})
        return [
            (message_id, data)
            for message_id in sorted(keyboards, reverse=True)
            for data in keyboards[message_id]
            if data.startswith(prefix)
        ]

    def press_on_screen(self, actor: Actor, prefix: str = "") -> tuple[str, Update] | None:
        """A real button on screen: mostly of the newest keyboard, sometimes an older one."""
        buttons = self.live_buttons(actor, prefix)
        if not buttons:
            return None
        if self.rng.random() < 0.75:
            newest = buttons[0][0]
            buttons = [b for b in buttons if b[0] == newest]
        message_id, data = self.rng.choice(buttons)
        return "press", self.callback(actor, data, message_id)

    # --- valid moves ------------------------------------------------------------------------

    async def valid(self, actor: Actor) -> tuple[str, Update]:
        """What a well-meaning person would do next in the actor's conversation."""
        h, rng = self.h, self.rng
        if actor.private:
            session = await sessions.load(h.services.db, h.services.ids, actor.user)
            if session is not None and rng.random() < 0.95:
                return self.session_move(actor, session)
            draft = await h.services.intake.load(actor.user)
            if draft is not None and rng.random() < 0.95:
                return self.draft_move(actor, draft)
        if rng.random() < 0.6 and (pressed := self.press_on_screen(actor)) is not None:
            return pressed
        return "command", self.text(actor, rng.choice(self.role_commands(actor)))

    def role_commands(self, actor: Actor) -> list[str]:
        ref, task = self.some_ref(), self.some_task()
        committee = [
            "/newtask", "/cases", f"/case {ref}", f"/note {ref}", f"/audit {ref}",
            f"/task {task}", "/export", "/stats", "/help",
        ]  # fmt: skip
        if not actor.private:
            return [*committee, f"/cases@{BOT_USERNAME}", "/help", "hello everyone"]
        family = ["/apply", "/status", "/start", "/help", "/mydata", "/cancel", "/language"]
        volunteers = ["/volunteer", "/tasks", "/mytasks", "/start", "/mydata", "/cancel"]
        if actor.role == "family":
            return [*family, *["/apply"] * 6]
        if actor.role == "volunteer":
            return [*volunteers, *["/volunteer", "/tasks"] * 3, "/delete_my_data"]
        if actor.role == "member":
            return [*committee, "/newtask", f"/note {ref}"]
        if actor.role == "tasker":
            return ["/newtask", "/newtask", f"/task {task}", "/cases", "/help"]
        return [*family, *volunteers, *committee, "/delete_my_data"]

    def draft_move(self, actor: Actor, draft: Draft) -> tuple[str, Update]:
        """Answer the draft's current question (or act on its review) properly."""
        h, rng = self.h, self.rng
        self.reached[f"{draft.form}:{draft.step}"] += 1
        prefix = f"in:{draft.id}:{draft.step}:"
        if draft.step == REVIEW:
            submit = self.live_buttons(actor, prefix + "S:")
            if submit and rng.random() < 0.5:
                return "press", self.callback(actor, submit[0][1], submit[0][0])
            return self.press_on_screen(actor, prefix) or self.typed(actor, rng.choice(PROSE))
        form = h.services.intake.form_of(draft)
        step = form.step(draft.step)
        assert step is not None
        buttons = self.live_buttons(actor, prefix)
        if step.kind == "multi" and draft.pending and rng.random() < 0.4:
            done = [b for b in buttons if b[1].endswith(":d:")]
            if done:
                return "press", self.callback(actor, done[0][1], done[0][0])
        if buttons and (step.kind in ("multi", "choice") or rng.random() < 0.3):
            message_id, data = rng.choice(buttons)
            return "press", self.callback(actor, data, message_id)
        if step.kind == "number":
            low, high = form.number_bounds(step, draft.answers)
            number = str(rng.randint(low, max(low, min(high, 9))))
            if rng.random() < 0.5:
                number = number.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
            return self.typed(actor, number)
        if step.kind == "phone":
            if rng.random() < 0.3:
                own = h.updates.contact(
                    actor.user,
                    "962791234567",
                    contact_user_id=actor.user,
                    language_code=actor.lang,
                )
                return "contact", own
            return self.typed(actor, rng.choice(PHONES))
        if step.kind == "description" and rng.random() < 0.3:
            update = h.updates.voice(actor.user, f"voice-{actor.user}", rng.randint(1, 90))
            return "voice", update
        return self.typed(actor, rng.choice(PROSE))

    def session_move(self, actor: Actor, session: dict[str, object]) -> tuple[str, Update]:
        """Answer a wizard (decision, question, note, task) or the family's answer."""
        rng = self.rng
        step = str(session.get("step"))
        kind = str(session.get("kind"))
        self.reached[f"{kind}:{step}"] += 1
        typed = {
            "date": ["2027-03-31", "٢٠٢٨-٠١-١٥"],
            "message": list(PROSE),
            "question": list(PROSE),
            "note": list(PROSE),
            "answer": list(PROSE),
            "title": list(PROSE),
            "description": list(PROSE),
            "day": ["2027-03-31", "٢٠٢٨-٠١-١٥"],
            "time": ["14:30", "١٠:٠٠", "9"] if kind == "task" else ["2027-03-31 14:30"],
            "needed": ["2", "٣", "12"],
            "case": [self.some_ref()],
        }.get(step)
        if kind == "answer" and rng.random() < 0.3:
            return "voice", self.h.updates.voice(actor.user, "voice-answer", rng.randint(1, 60))
        if typed and (rng.random() < 0.85 or not self.live_buttons(actor)):
            return self.typed(actor, rng.choice(typed))
        forward = {"support": "rv:sd:", "confirm": "rv:ok:", "preview": "tw:p:"}.get(step)
        if step == "day":  # never today: whether 9:00 today has passed depends on the clock
            forward = "tw:d:1"
        if forward and (rng.random() < 0.5 or step == "day"):
            pressed = self.press_on_screen(actor, forward)
            if pressed is not None:
                return pressed
        own = {"task": "tw:", "taskedit": "tm:", "answer": "fa:"}.get(kind, "rv:")
        return (
            self.press_on_screen(actor, own)
            or self.press_on_screen(actor)
            or self.typed(actor, rng.choice(PROSE))
        )

    def typed(self, actor: Actor, text: str) -> tuple[str, Update]:
        return "answer", self.text(actor, text)

    # --- hostile moves ----------------------------------------------------------------------

    def random_text(self, length: int) -> str:
        rng = self.rng
        out: list[str] = []
        for _ in range(length):
            roll = rng.random()
            if roll < 0.08:
                out.append(rng.choice(EMOJI))
            elif roll < 0.12:
                out.append(chr(rng.randint(0x10000, 0x10FFFF)))
            elif roll < 0.15:  # anywhere in the BMP but the surrogates
                out.append(
                    chr(rng.choice((rng.randint(0x80, 0xD7FF), rng.randint(0xE000, 0xFFFD))))
                )
            else:
                out.append(rng.choice(rng.choice(ALPHABETS)))
        return "".join(out)

    def hostile_text(self) -> tuple[str, str]:
        rng = self.rng
        kind = rng.choices(
            ("unicode", "bidi", "long", "markup", "odd", "blank"), weights=(3, 2, 2, 2, 4, 1)
        )[0]
        if kind == "unicode":
            return kind, self.random_text(rng.randint(1, 300)) or "x"
        if kind == "bidi":
            core = rng.choice((*PROSE, *PHONES, *ODD_INPUT))
            marks = RTL + ZERO_WIDTH + COMBINING
            return kind, "".join(
                ch + ("".join(rng.choices(marks, k=rng.randint(0, 2)))) for ch in core
            )
        if kind == "long":
            size = rng.choice((4096, 4096, 5000, 2001, 1001, 101))
            unit = rng.choice(("a", "س", "😀", "<b>", "&", "ab ", "\u200b", "e\u0301"))
            text = (unit * size)[:size]
            if rng.random() < 0.5:
                text = self.random_text(size)[:size]
            return kind, text
        if kind == "markup":
            return kind, "".join(
                rng.choice((*MARKUP, " ", rng.choice(PROSE))) for _ in range(rng.randint(1, 20))
            )
        if kind == "odd":
            return kind, rng.choice(ODD_INPUT)
        return kind, rng.choice(BLANKS)

    def hostile_command(self) -> str:
        rng = self.rng
        name = rng.choice(COMMANDS)
        return rng.choice(
            (
                f"/{name}",
                f"/{name} {self.hostile_text()[1][:200]}",
                f"/{name} {self.some_ref()}",
                f"/{name} {self.some_task()} extra args",
                f"/{name}@{BOT_USERNAME}",
                f"/{name}@{BOT_USERNAME.upper()} {self.some_ref()}",
                f"/{name}@OtherBot",
                f"/{name.upper()}",
                f"/{name}\u200b",
                f"/{name}{rng.choice(EMOJI)}",
                "/",
                "//",
                "/unknown",
                "/" + "a" * 40,
                "/start " + "x" * 64,
                "/start ref-" + rng.choice(EMOJI),
            )
        )

    def forged_data(self, actor: Actor) -> tuple[str, str, int | None]:
        """(label, callback_data, message id or None for a message that does not exist)."""
        rng = self.rng
        kind = rng.choice(("random", "prefix", "mutated", "mutated", "stolen", "stale", "unicode"))
        own = self.live_buttons(actor)
        if kind == "mutated" and own:
            message_id, data = rng.choice(own[:8])
            parts = data.split(":")
            roll = rng.random()
            if roll < 0.7:  # mostly the argument, where the handlers parse
                where = len(parts) - 1 if rng.random() < 0.7 else rng.randrange(len(parts))
                parts[where] = rng.choice((*GARBAGE, self.some_ref()))
            elif roll < 0.85:
                parts.append(rng.choice(GARBAGE))
            else:
                parts.pop()
            data = ":".join(parts) or "x"
            while len(data.encode()) > 64:
                data = data[:-1]
            return "mutated", data, message_id
        target = own[0][0] if own and rng.random() < 0.7 else None
        mine = self.screen.bot_messages.get(actor.chat)
        if target is None and mine and rng.random() < 0.5:
            target = rng.choice(mine)  # a message without buttons, a photo, a document…
        if kind == "stale":
            history = self.screen.history.get(actor.chat)
            if history:
                message_id, data = rng.choice(history)
                return "stale", data, message_id
            kind = "stolen"
        if kind == "stolen" and self.screen.every:
            return "stolen", rng.choice(self.screen.every), target
        if kind == "unicode":
            data = self.random_text(rng.randint(1, 30))
            while len(data.encode()) > 64:
                data = data[:-1]
            return "forged", data or "x", target
        if kind == "prefix":
            tokens = (*GARBAGE, self.some_ref(), self.some_task())
            parts = [rng.choice(PREFIXES)] + [rng.choice(tokens) for _ in range(rng.randint(0, 5))]
            data = ":".join(parts)
            while len(data.encode()) > 64:
                data = data[:-1]
            return "forged", data, target
        alphabet = "".join(chr(c) for c in range(33, 127))
        data = "".join(rng.choices(alphabet, k=rng.randint(1, 64)))
        return "forged", data, target

    def hostile(self, actor: Actor) -> tuple[str, Update]:
        h, rng = self.h, self.rng
        user, chat, lang = actor.user, actor.chat, self.lang(actor)
        kind = rng.choices(
            ("text", "command", "media", "edited", "callback"), weights=(30, 15, 20, 10, 25)
        )[0]
        if kind == "text":
            label, text = self.hostile_text()
            return label, self.text(actor, text)
        if kind == "command":
            return "command", self.text(actor, self.hostile_command())
        if kind == "edited":
            text = self.hostile_command() if rng.random() < 0.2 else self.hostile_text()[1]
            return "edited", h.updates.edited_text(user, text, chat_id=chat, language_code=lang)
        if kind == "callback":
            label, data, message_id = self.forged_data(actor)
            return label, self.callback(actor, data, message_id)
        media = rng.choice(("sticker", "photo", "document", "location", "contact", "voice"))
        if media == "sticker":
            return media, h.updates.sticker(
                user, emoji=rng.choice(EMOJI), chat_id=chat, language_code=lang
            )
        if media == "photo":
            caption = rng.choice((None, self.hostile_text()[1][:1024]))
            return media, h.updates.photo(user, caption=caption, chat_id=chat, language_code=lang)
        if media == "document":
            name = rng.choice(("file.pdf", "<b>.exe", "تقرير.pdf", "..\\..\\x", "😀" * 40))
            caption = rng.choice((None, self.hostile_text()[1][:1024]))
            return media, h.updates.document(
                user, file_name=name, caption=caption, chat_id=chat, language_code=lang
            )
        if media == "location":
            lat = rng.choice((0.0, 90.0, -90.0, 31.95, rng.uniform(-90, 90)))
            lon = rng.choice((0.0, 180.0, -180.0, 35.91, rng.uniform(-180, 180)))
            return media, h.updates.location(user, lat, lon, chat_id=chat, language_code=lang)
        if media == "contact":
            phone = rng.choice((*PHONES, "962791234567", "abc", "+", "0", "+1 (555) 0100", "٠"))
            owner = rng.choice((user, None, 12345, OUTSIDER))
            return media, h.updates.contact(
                user,
                phone,
                contact_user_id=owner,
                first_name=rng.choice(("X", "<b>Y</b>", "‮Z")),
                chat_id=chat,
                language_code=lang,
            )
        duration = rng.choice((0, 1, 59, 3600, 86_400))
        return media, h.updates.voice(user, "voice-x", duration, chat_id=chat, language_code=lang)

    # --- checks -----------------------------------------------------------------------------

    async def feed(self, where: str, actor: Actor, label: str, update: Update) -> None:
        """Process one update and check everything the bot did for it."""
        outcome = self.outcome
        outcome.kinds[label] += 1
        records, violations = len(self.log.records), len(self.h.fake.violations)
        calls = await self.h.feed(update)
        outcome.calls += len(calls)
        where = f"{where} ({label} from {actor.user} in {actor.chat}: {summary(update)})"
        for record in self.log.records[records:]:
            if record.levelno >= logging.ERROR:
                outcome.problems.append(f"{where}: logged {record.getMessage()}")
        for violation in self.h.fake.violations[violations:]:
            outcome.problems.append(f"{where}: Telegram would reject {violation}")
        self.check(where, actor, update, calls)

    def check(self, where: str, actor: Actor, update: Update, calls: list[Call]) -> None:
        """Every callback answered once, every private message answered, groups left alone."""
        outcome = self.outcome
        problems = outcome.problems
        query = update.callback_query
        if query is not None:
            outcome.callbacks += 1
            answers = [
                c
                for c in calls
                if c.method == "answerCallbackQuery"
                and str(c.params.get("callback_query_id")) == query.id
            ]
            if len(answers) != 1:
                problems.append(f"{where}: {query.data!r} answered {len(answers)} times")
            else:
                outcome.answered += 1
        elif actor.private:
            to_them = [
                c for c in calls if c.ok and c.chat_id == actor.chat and c.method != "getFile"
            ]
            if to_them:
                outcome.answered += 1
            else:
                problems.append(f"{where}: no answer")
        else:
            # A group. The bot answers /help there (in the committee group only); a member's
            # committee command there is answered in the member's private chat (committee_gate,
            # to_member), so nothing personal reaches the group; anything else matches no
            # handler (the catch-alls are private only) or is for another bot (/x@OtherBot):
            # no answer is due, and the bot must not speak in the group.
            message = update.effective_message
            command = self.group_command(message.text if message else None)
            spoke = [c for c in calls if c.chat_id == actor.chat and c.method.startswith("send")]
            if spoke and not (command == "help" and actor.chat == COMMITTEE_CHAT):
                problems.append(f"{where}: the bot spoke in the group: {spoke[0].text!r:.80}")
            member_command = (
                update.message is not None
                and command in COMMITTEE_COMMANDS
                and actor.chat == COMMITTEE_CHAT
                and actor.role == "member"
            )
            if member_command:
                if any(c.ok and c.chat_id == actor.user for c in calls):
                    outcome.answered += 1
                else:
                    problems.append(f"{where}: member's /{command} got no private answer")
        for call in calls:
            if call.ok:
                continue
            if "not modified" in (call.error or ""):
                outcome.not_modified += 1
            else:
                problems.append(f"{where}: {call.method} rejected: {call.error}")

    @staticmethod
    def group_command(text: str | None) -> str | None:
        """The command a group message is for this bot, as PTB's CommandHandler reads it."""
        if not text or not text.startswith("/"):
            return None
        name, _, target = re.split(r"\s", text, maxsplit=1)[0][1:].partition("@")
        if target and target.lower() != BOT_USERNAME.lower():
            return None
        return name.lower()


async def progress(h: Harness, fuzz: Fuzzer) -> str:
    """How deep the run went: the states the valid moves acted in, and what got done."""
    db = h.services.db
    statuses = await db.fetchall("SELECT status, COUNT(*) AS n FROM cases GROUP BY status")
    done = {f"cases {r['status']}": int(r["n"]) for r in statuses}
    for label, sql in (
        ("tasks", "SELECT COUNT(*) FROM tasks"),
        ("task answers", "SELECT COUNT(*) FROM assignments"),
        ("volunteers", "SELECT COUNT(*) FROM volunteers"),
        ("questions answered", "SELECT COUNT(*) FROM info_requests WHERE answered_at IS NOT NULL"),
        ("notes", "SELECT COUNT(*) FROM notes"),
    ):
        row = await db.fetchone(sql)
        done[label] = int(row[0]) if row else 0
    states = len(fuzz.reached)
    return f"{states} states; " + ", ".join(f"{k} {v}" for k, v in sorted(done.items()))


def summary(update: Update) -> str:
    """The input, short enough for a failure message."""
    if update.callback_query is not None:
        return f"data={update.callback_query.data!r}"
    message = update.effective_message
    if message is None:
        return "?"
    text = message.text or message.caption
    if text is not None:
        return f"text={text[:60]!r}{'…' if len(text) > 60 else ''} ({len(text)} chars)"
    return "media"


async def cast(h: Harness) -> list[Actor]:
    """Put everyone in place: each conversation is somewhere in the middle."""
    for member in (MEMBER, OTHER_MEMBER):
        await h.say(member, "/start")
    h.languages.update({F_CASE: "ar", F_ASKED: "en", F_MID: "ar", F_CONSENT: "ar"})
    case_ref = await full_intake(h, F_CASE)
    asked = await full_intake(h, F_ASKED, Answers(name="Huda", phone="0795551234", story="x"))
    await h.press(MEMBER, rf"^cv:ask:{asked}$", chat_id=COMMITTEE_CHAT)
    await h.say(MEMBER, "Do you have a <b>medical</b> report?")  # F_ASKED gets an Answer button
    await volunteer(h, V_ACTIVE)
    await new_task(h)  # V_ACTIVE gets the offer
    await h.press(MEMBER, rf"^cv:approve:{case_ref}$", chat_id=COMMITTEE_CHAT)  # mid-wizard
    await h.say(OTHER_MEMBER, "/newtask")
    await h.say(OTHER_MEMBER, "Carry groceries")
    await h.say(TASKER, "/start")
    await h.say(TASKER, "/newtask")
    await h.say(F_CONSENT, "/apply")
    await apply_and_consent(h, F_START)
    await apply_and_consent(h, F_MID)
    for action in script()[:9]:
        await act(h, F_MID, action)
    await apply_and_consent(h, F_REVIEW)
    await answer_all(h, F_REVIEW)
    h.languages[V_NEW] = "ar"
    await h.say(V_NEW, "/volunteer")
    await h.press(V_NEW, r"^vo:y$")
    await h.say(V_NEW, "عمر")
    await h.say(OUTSIDER, "/start")
    assert h.fake.violations == []
    return [
        Actor(F_NEW, F_NEW, "family", None, 1),
        Actor(F_CONSENT, F_CONSENT, "family", "ar"),
        Actor(F_START, F_START, "family"),
        Actor(F_MID, F_MID, "family", "ar"),
        Actor(F_REVIEW, F_REVIEW, "family"),
        Actor(F_CASE, F_CASE, "family", "ar", 2),
        Actor(F_ASKED, F_ASKED, "family", "en", 2),
        Actor(V_NEW, V_NEW, "volunteer", "ar"),
        Actor(V_ACTIVE, V_ACTIVE, "volunteer"),
        Actor(MEMBER, MEMBER, "member", "en", 5),
        Actor(OTHER_MEMBER, OTHER_MEMBER, "member", "en", 5),
        Actor(TASKER, TASKER, "tasker", "ar", 4),
        Actor(OUTSIDER, OUTSIDER, "outsider", "en", 2),
        Actor(MEMBER, COMMITTEE_CHAT, "member", "en", 2),
        Actor(OTHER_MEMBER, COMMITTEE_CHAT, "member", "en", 1),
        Actor(OUTSIDER, COMMITTEE_CHAT, "outsider", "en", 1),
        Actor(F_CASE, COMMITTEE_CHAT, "family", "ar", 1),
        Actor(OUTSIDER, OTHER_GROUP, "outsider", "en", 1),
        Actor(MEMBER, OTHER_GROUP, "member", "en", 1),
    ]


@pytest.fixture
def settings(tmp_path: Path, key: str) -> Settings:
    """The usual settings, without the flood limit: the storm is far faster than any person,
    and what it tests is the handlers (tests/test_flood.py tests the limit)."""
    members = f"{MEMBER},{OTHER_MEMBER},{TASKER}"
    return make_settings(
        tmp_path, ENCRYPTION_KEY=key, COMMITTEE_MEMBER_IDS=members, FLOOD_PER_MINUTE="0"
    )


@pytest.fixture(autouse=True)
def unpaced(monkeypatch: pytest.MonkeyPatch) -> None:
    """The outbox sends at once: its pace per chat is not under test here."""
    monkeypatch.setattr(bot.delivery, "PRIVATE_CHAT_INTERVAL", 0.0)


@pytest.mark.parametrize("seed", SEEDS)
async def test_fuzz(
    harness: Harness,
    seed: int,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    h = harness
    caplog.set_level(logging.WARNING)
    actors = await cast(h)
    fuzz = Fuzzer(h, random.Random(seed), actors, caplog)
    started = time.perf_counter()
    for step in range(UPDATES_PER_SEED):
        fuzz.screen.follow()
        if step % 10 == 0:
            await fuzz.refresh_refs()
        actor = fuzz.rng.choices(actors, weights=[a.weight for a in actors])[0]
        if fuzz.rng.random() < HOSTILE_SHARE:
            label, update = fuzz.hostile(actor)
        else:
            label, update = await fuzz.valid(actor)
        await fuzz.feed(f"seed {seed} step {step}", actor, label, update)
    elapsed = time.perf_counter() - started
    outcome = fuzz.outcome
    reached = await progress(h, fuzz)
    with capsys.disabled():
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(outcome.kinds.items()))
        print(
            f"\nfuzz seed {seed}: {UPDATES_PER_SEED} updates in {elapsed:.1f} s ({kinds}); "
            f"{outcome.calls} bot calls, {outcome.answered} answered, "
            f"{outcome.callbacks} callbacks, {len(h.fake.violations)} violations, "
            f"{outcome.not_modified} 'not modified', {len(outcome.problems)} problems; "
            f"reached {reached}"
        )
    assert not outcome.problems, "\n".join(outcome.problems[:40])
    assert h.fake.violations == []
    # A press carries the message as it is now, and the outbox remembers what it showed: no
    # call is made that changes nothing (Telegram answers those 400 "message is not modified").
    assert outcome.not_modified == 0
    # The valid half of the inputs walks people deep into the conversations: a fuzz that
    # bounced at the first screens would prove little (runs reach 31 to 36 states).
    assert len(fuzz.reached) >= 25, sorted(fuzz.reached)
    assert sum(outcome.kinds.values()) == UPDATES_PER_SEED


class Replay:
    """Exact inputs, checked like the fuzz checks its own."""

    def __init__(self, h: Harness, log: pytest.LogCaptureFixture, actors: list[Actor]) -> None:
        self.h = h
        self.fuzz = Fuzzer(h, random.Random(0), actors, log)

    async def press(self, actor: Actor, data: str, on: str | int) -> None:
        """Press ``data`` on message ``on``, or on the newest with a button matching ``on``."""
        message_id = on if isinstance(on, int) else self.h.find_button(actor.chat, on)[0]
        await self.fuzz.feed("replay", actor, "press", self.fuzz.callback(actor, data, message_id))

    async def say(self, actor: Actor, text: str) -> None:
        await self.fuzz.feed("replay", actor, "answer", self.fuzz.text(actor, text))

    async def step(self, actor: Actor) -> object:
        """The step of the actor's wizard."""
        services = self.h.services
        session = await sessions.load(services.db, services.ids, actor.user)
        return None if session is None else session.get("step")

    def assert_clean(self) -> None:
        problems = self.fuzz.outcome.problems
        assert not problems, "\n".join(problems)


MEMBER_HERE = Actor(MEMBER, MEMBER, "member")
OTHER_HERE = Actor(OTHER_MEMBER, OTHER_MEMBER, "member")


async def test_what_the_fuzz_found(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    """Inputs earlier runs found, replayed: each crashed a handler (the person got an apology,
    the button was answered twice) or made the bot speak in the committee group."""
    h = harness
    caplog.set_level(logging.WARNING)
    replay = Replay(h, caplog, await cast(h))
    family, member, other = Actor(F_ASKED, F_ASKED, "family"), MEMBER_HERE, OTHER_HERE
    # str.isdigit() is true for '²' and '①', which int() refuses; SQLite refuses huge integers.
    for data in ("fa:²", "fa:①", "fa:99999999999999999999", "fa:-1", "fa:"):
        await replay.press(family, data, r"^fa:")
    await replay.say(member, "/cases")
    for data in ("cl:new:²", "cl:all:99999999999999999999"):
        await replay.press(member, data, r"^cl:")
    await replay.press(member, "rv:sd:", r"^rv:sd:$")
    for data in ("rv:p:²", "rv:p:99999999999999999999"):
        await replay.press(member, data, r"^rv:p:")
    assert await replay.step(member) == "period"
    # The task wizard: forged quick times, durations and counts, odd digits, the last days
    # of the calendar (the task's end and reminders would overflow a datetime).
    await replay.say(other, "Bring the shopping")
    await replay.press(other, "tw:s:driving", r"^tw:s:")
    await replay.press(other, "tw:a:north", r"^tw:a:")
    await replay.say(other, "9999-12-31")
    assert await replay.step(other) == "day"
    await replay.press(other, "tw:d:1", r"^tw:d:")
    for data in ("tw:t:9999", "tw:t:²²²²", "tw:t:2400", "tw:t:0960"):
        await replay.press(other, data, r"^tw:t:")
    assert await replay.step(other) == "time"
    await replay.press(other, "tw:t:1200", r"^tw:t:")
    await replay.press(other, "tw:u:²", r"^tw:u:")
    await replay.press(other, "tw:u:60", r"^tw:u:")
    await replay.press(other, "tw:n:²", r"^tw:n:")
    for typed in ("²", "①", "99999999999999999999"):
        await replay.say(other, typed)
    assert await replay.step(other) == "needed"
    await replay.say(other, "٢")
    await replay.press(other, "tw:c:", r"^tw:c:")
    await replay.press(other, "tw:p:", r"^tw:p:")
    row = await h.services.db.fetchone("SELECT ref FROM tasks ORDER BY id DESC")
    assert row is not None
    ref = row["ref"]
    await replay.say(other, f"/task {ref}")
    await replay.press(other, f"tm:t:{ref}", r"^tm:t:")
    await replay.say(other, "9999-12-31 23:59")
    assert await replay.step(other) == "time"
    # /export in the committee group: the choice (and its buttons) go to the private chat.
    await replay.say(Actor(MEMBER, COMMITTEE_CHAT, "member"), "/export")
    assert "export" in str(h.fake.last(MEMBER).text)
    # A /cases button forged on the /stats chart (a photo): a new list, not an edit.
    await replay.say(member, "/stats")
    chart = h.fake.last(MEMBER)
    assert chart.method == "sendPhoto"
    await replay.press(member, "cl:new:0", int(chart.result["message_id"]))
    replay.assert_clean()


async def test_language_button_forged_on_a_photo(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    caplog.set_level(logging.WARNING)
    replay = Replay(h, caplog, await cast(h))
    await replay.say(MEMBER_HERE, "/stats")
    chart = h.fake.last(MEMBER)
    assert chart.method == "sendPhoto"
    await replay.press(MEMBER_HERE, "lang:en", int(chart.result["message_id"]))
    h.fake.violations.clear()  # reported by the replay; the fixture would report it again
    replay.assert_clean()
