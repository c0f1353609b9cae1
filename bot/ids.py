"""Telegram ids at rest: a keyed pseudonym to look people up, the real id sealed to send.

A Telegram user id often leads to the account and its phone number, so no table holds one in
clear. Each person is known in the database by ``pid(id)``: HMAC-SHA256 of the id under the
pseudonym key, cut to a positive 63-bit integer so that columns, indexes and foreign keys stay
INTEGER and a lookup costs one HMAC. (With even a million people, the odds that two share a
pseudonym are about 10**12 / 2**64, one in ten million.) Where the bot must write to the
person, the real id is also stored Fernet-encrypted beside the pseudonym (:meth:`Ids.seal`).

Group chats (negative ids, such as the committee's) are not people and stay in clear: a
pseudonym is always positive, so the two never collide in one column.

The pseudonym key is random, kept in the database encrypted under the field key (see
:mod:`bot.storage.meta`): key rotation re-encrypts it like any other value, and the pseudonyms
stay the same.
"""

from __future__ import annotations

import hashlib
import hmac

from bot.crypto import Cipher

PSEUDONYM_BITS = 63
KEY_BYTES = 32


class Ids:
    """Pseudonyms and sealed ids, under one pseudonym key and the field cipher."""

    def __init__(self, cipher: Cipher, pseudonym_key: bytes) -> None:
        if len(pseudonym_key) < KEY_BYTES:
            raise ValueError("the pseudonym key is too short")
        self.cipher = cipher
        self._key = pseudonym_key

    def pid(self, telegram_id: int) -> int:
        """The person's pseudonym: the same id always gives the same positive integer."""
        digest = hmac.new(self._key, str(telegram_id).encode("ascii"), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big") >> (64 - PSEUDONYM_BITS)

    def subkey(self, purpose: bytes) -> bytes:
        """A key of its own for another keyed hash (``purpose`` names it), derived from the
        pseudonym key: HMAC-SHA256(pseudonym key, purpose). The hashes made with it stay as
        valid as the pseudonyms, and are as unknowable without the database's key."""
        return hmac.new(self._key, purpose, hashlib.sha256).digest()

    def maybe_pid(self, telegram_id: int | None) -> int | None:
        """:meth:`pid`, or None for no person."""
        return None if telegram_id is None else self.pid(telegram_id)

    def chat(self, chat_id: int) -> int:
        """The key of a chat at rest: a group's id as it is, a person's pseudonym."""
        return chat_id if chat_id < 0 else self.pid(chat_id)

    def seal(self, telegram_id: int) -> bytes:
        """The real id, encrypted: for the rows from which the bot must write to someone."""
        return self.cipher.encrypt(str(telegram_id))

    def maybe_seal(self, telegram_id: int | None) -> bytes | None:
        """:meth:`seal`, or None for no person."""
        return None if telegram_id is None else self.seal(telegram_id)

    def open(self, sealed: bytes) -> int:
        """The real id back from :meth:`seal`."""
        return int(self.cipher.decrypt(sealed))

    def maybe_open(self, sealed: bytes | None) -> int | None:
        """:meth:`open`, or None where no id was sealed."""
        return None if sealed is None else self.open(sealed)
