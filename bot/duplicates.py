"""Possible duplicates: the same family applying twice, caught without reading anyone's data.

At submission a case gets keyed hashes of its phone (E.164, whatever digits it was typed in)
and of its name together with its area (after the Arabic-aware normalisation below), and is
flagged when an earlier case, not erased, has the same one. Only the digests are stored
(``case_keys``): comparing them needs no clear value, and without the key nobody can test a
guess, so the confidentiality of names and phones is what it was.

The key is a sub-key of the pseudonym key (``HMAC(pseudonym key, "duplicates")``), not the
field key: rotating the field key re-encrypts the pseudonym key and leaves it unchanged (it
never rotates, see :mod:`bot.storage.meta`), so every digest stays valid across a rotation
and none needs rewriting; they are hashes, not encrypted values, and are not in
``storage/encrypted.py``. The digests and the flags are erased with either case's personal
data (:func:`bot.privacy._anonymise`, for erasure and retention alike).

Members see the flag in Details and ``/case`` only, never on the group's card, and answer it:
"Not a duplicate" dismisses it; "Merge" closes the newer case with a link to the earlier one,
as closing does (the family is not told anything). Both are audited.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from collections.abc import Mapping
from typing import Any

from bot import workflow
from bot.errors import CaseNotFound
from bot.forms import AREA, NAME, PHONE, Form
from bot.ids import Ids
from bot.kinds import Kind
from bot.storage import Connection, Database, outbox
from bot.storage import audit as audit_log
from bot.storage import cases as case_repo
from bot.storage import duplicates as repo
from bot.storage.cases import Case
from bot.storage.duplicates import Flag

PURPOSE = b"duplicates"
# What a digest is of, and why a case is flagged (``BOTH``: the phone, and the name and area).
SAME_PHONE, SAME_NAME_AREA, BOTH = "phone", "name_area", "both"
# A family that applied many times is flagged against its few latest cases, not all of them.
MAX_MATCHES = 3

# Arabic marks that do not change a name: tashkeel (fatha to sukun, tanween, shadda, maddah
# and hamza marks), the superscript alef and the Quranic annotation signs; and the tatweel.
_MARKS = frozenset(
    [chr(c) for c in range(0x064B, 0x0660)]
    + ["\u0670"]
    + [chr(c) for c in range(0x06D6, 0x06EE)]
    + ["\u0640"]
)
# Letters written in several ways in the same name: alef forms, hamza on waw and yaa, taa
# marbuta and haa, alef maqsura and yaa (and the Persian yeh and keheh of some keyboards).
_LETTERS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ؤ": "و",
        "ئ": "ي",
        "ة": "ه",
        "ى": "ي",
        "ی": "ي",
        "ک": "ك",
    }
)


def normalise_name(text: str) -> str:
    """A name (or a typed area) as it compares: NFKC, without tashkeel or tatweel, with one
    form of each letter written several ways, Latin case folded, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if ch not in _MARKS).translate(_LETTERS)
    return " ".join(text.casefold().split())


def area_of(form: Form, answers: Mapping[str, Any]) -> str | None:
    """The area as it compares: its option id, or for an area typed under "other" the text,
    normalised like a name."""
    step = form.role(AREA)
    chosen = answers.get(step.id)
    if not isinstance(chosen, str):
        return None
    for typed in form.steps:
        if typed.only_if == (step.id, chosen):
            words = answers.get(typed.id)
            return f"{chosen}:{normalise_name(words)}" if isinstance(words, str) else None
    return chosen


def reason_of(kinds: set[str]) -> str:
    """Why a case is flagged, from the kinds of digest it shares with the other."""
    return BOTH if len(kinds) > 1 else next(iter(kinds))


class Keyer:
    """The keyed hashes of the values compared: HMAC-SHA256 under the duplicates sub-key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def of(cls, ids: Ids) -> Keyer:
        """The keyer of this database (its key derived from the pseudonym key)."""
        return cls(ids.subkey(PURPOSE))

    def digest(self, kind: str, value: str) -> bytes:
        """The digest of ``value`` as a ``kind``: the same value always gives the same one."""
        return hmac.new(self._key, f"{kind}\x00{value}".encode(), hashlib.sha256).digest()

    def keys(self, form: Form, answers: Mapping[str, Any]) -> dict[str, bytes]:
        """The digests of an application's answers (kind -> digest): the phone, and the name
        with the area; a value not given (a spoken name, no area) gives none.

        The phone is compared as the form stored it: in E.164, whatever digits it was typed
        in (:func:`bot.intake.validate_phone` checks and normalises every phone answer)."""
        found: dict[str, bytes] = {}
        phone = answers.get(form.role_id(PHONE))
        if isinstance(phone, str) and phone:
            found[SAME_PHONE] = self.digest(SAME_PHONE, phone)
        name = answers.get(form.role_id(NAME))
        area = area_of(form, answers)
        if isinstance(name, str) and normalise_name(name) and area:
            found[SAME_NAME_AREA] = self.digest(
                SAME_NAME_AREA, json.dumps([normalise_name(name), area], ensure_ascii=False)
            )
        return found

    async def flag(
        self, conn: Connection, form: Form, case_id: int, answers: Mapping[str, Any]
    ) -> int:
        """At submission, inside its transaction: store the new case's digests and flag it
        against the earlier cases that share one; returns how many flags were made."""
        keys = self.keys(form, answers)
        await repo.add_keys(conn, case_id, keys)
        shared: dict[int, set[str]] = {}
        for kind, digest in keys.items():
            for other in await repo.matching(conn, case_id, kind, digest, MAX_MATCHES):
                shared.setdefault(other, set()).add(kind)
        for other, kinds in sorted(shared.items(), reverse=True)[:MAX_MATCHES]:
            await repo.add_flag(conn, case_id, other, reason_of(kinds))
        return min(len(shared), MAX_MATCHES)


class DuplicateService:
    """The members' side: a case's flags, "Not a duplicate", and "Merge"."""

    def __init__(self, db: Database, ids: Ids, committee_chat_id: int | None) -> None:
        self.db = db
        self.ids = ids
        self.committee_chat_id = committee_chat_id

    async def flags(self, case_id: int) -> list[Flag]:
        """The flags naming the case, on either side, every state, oldest first."""
        return await repo.for_case(self.db, case_id)

    async def get(self, flag_id: int) -> Flag | None:
        """One flag (None: there is none, or it was erased)."""
        return await repo.by_id(self.db, flag_id)

    async def dismiss(self, flag_id: int, member_id: int) -> Flag | None:
        """ "Not a duplicate": the flag is dismissed, once; None if it was settled before."""
        async with self.db.transaction() as conn:
            flag = await repo.load(conn, flag_id)
            if flag is None or not await repo.settle(
                conn, self.ids, flag_id, repo.DISMISSED, member_id
            ):
                return None
            await audit_log.record(
                conn,
                self.ids,
                "duplicate_dismissed",
                actor_id=member_id,
                case_id=flag.case_id,
                detail=json.dumps({"reason": flag.reason}),
            )
        return flag

    async def merge(self, flag_id: int, member_id: int) -> tuple[Flag, Case] | None:
        """ "Merge": the flagged case is closed with a link to the other, in one transaction
        with the flag; None if the flag was settled before. Raises
        :class:`workflow.InvalidTransition` when the case is closed already.

        The family is not told, as for any close; the card shows the new status.
        """
        async with self.db.transaction() as conn:
            flag = await repo.load(conn, flag_id)
            if flag is None or not await repo.settle(
                conn, self.ids, flag_id, repo.MERGED, member_id
            ):
                return None
            case = await self._close(conn, flag.case_ref)
            await audit_log.record(
                conn,
                self.ids,
                "case_merged",
                actor_id=member_id,
                case_id=case.id,
                detail=json.dumps({"reason": flag.reason}),
            )
            if self.committee_chat_id is not None:
                await outbox.enqueue_group(
                    conn, Kind.CARD_UPDATE, self.committee_chat_id, case_id=case.id
                )
        return flag, case

    async def _close(self, conn: Connection, ref: str) -> Case:
        """The workflow's merge: one conditional UPDATE from any status but closed."""
        case = await case_repo.load(conn, self.ids, ref)
        if case is None:
            raise CaseNotFound(ref)
        status = workflow.target(workflow.MERGE, case.status)
        sources = workflow.TRANSITIONS[workflow.MERGE].sources
        if not await case_repo.transition(conn, self.ids, case.id, status, sources, {}):
            raise workflow.InvalidTransition(workflow.MERGE, case.status)
        closed = await case_repo.load(conn, self.ids, ref)
        assert closed is not None
        return closed
