"""Migration 23: the duplicate digests of the cases submitted before they existed.

A case gets its digests (``case_keys``) at submission; the cases submitted before that had
none, so a new application could never be flagged against them. This step computes them for
every case that still holds personal data, from its answers decrypted, with the same
normalisation and key as at submission (:class:`bot.duplicates.Keyer`). The old cases are not
flagged against one another: only the new ones are compared with them.
"""

from __future__ import annotations

import base64
import json

import aiosqlite

from bot.crypto import Cipher
from bot.duplicates import Keyer
from bot.forms import load_form
from bot.ids import Ids
from bot.storage import duplicates, meta


async def upgrade(conn: aiosqlite.Connection, cipher: Cipher, now: str) -> None:
    """Store the digests of every case with personal data (a digest stored already is
    written again, the same)."""
    async with conn.execute(
        "SELECT value FROM meta WHERE name = ?", (meta.PSEUDONYM_KEY,)
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None  # made by migration 7
    keyer = Keyer.of(Ids(cipher, base64.b64decode(cipher.decrypt(row[0]))))
    form = load_form("intake")
    async with conn.execute(
        "SELECT id, answers, personal FROM cases WHERE personal IS NOT NULL ORDER BY id"
    ) as cursor:
        cases = [(int(r[0]), str(r[1]), bytes(r[2])) for r in await cursor.fetchall()]
    for case_id, answers, personal in cases:
        given = {**json.loads(answers), **cipher.decrypt_json(personal)}
        await duplicates.add_keys(conn, case_id, keyer.keys(form, given))
