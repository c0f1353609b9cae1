"""People: their language, remembered for the updates to come, and whether they can be reached.

Every update and every rendered message needs the person's language, so it is kept in memory
after the first look-up. The memory is bounded: a busy bot meets more people than it should
hold for ever, and a forgotten language is only one query away.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, MutableMapping

from bot.ids import Ids
from bot.storage import Database, people

CACHE_SIZE = 4096


class LanguageCache(MutableMapping[int, str]):
    """Languages by user id; past ``limit`` entries, the least recently used is dropped."""

    def __init__(self, limit: int = CACHE_SIZE) -> None:
        self.limit = limit
        self._languages: OrderedDict[int, str] = OrderedDict()

    def __getitem__(self, user_id: int) -> str:
        language = self._languages[user_id]
        self._languages.move_to_end(user_id)
        return language

    def __setitem__(self, user_id: int, language: str) -> None:
        self._languages[user_id] = language
        self._languages.move_to_end(user_id)
        while len(self._languages) > self.limit:
            self._languages.popitem(last=False)

    def __delitem__(self, user_id: int) -> None:
        del self._languages[user_id]

    def __iter__(self) -> Iterator[int]:
        return iter(self._languages)

    def __len__(self) -> int:
        return len(self._languages)


class PeopleService:
    """The one owner of the language cache: it is read and changed only through here."""

    def __init__(self, db: Database, ids: Ids, cache_size: int = CACHE_SIZE) -> None:
        self.db = db
        self.ids = ids
        self.cache = LanguageCache(cache_size)

    async def language(self, user_id: int | None) -> str | None:
        """The person's stored language, or None for someone new (or no person at all)."""
        if user_id is None:
            return None
        language = self.cache.get(user_id)
        if language is None:
            language = await people.get_language(self.db, self.ids, user_id)
            if language is not None:
                self.cache[user_id] = language
        return language

    def cached(self, user_id: int | None) -> str | None:
        """The person's language if it is in memory: for code that cannot wait for a query."""
        return None if user_id is None else self.cache.get(user_id)

    def remember(self, user_id: int, language: str) -> None:
        """Note a language just stored by someone else (a new draft), unless one is known."""
        self.cache.setdefault(user_id, language)

    async def set_language(self, user_id: int, language: str) -> None:
        """Store the person's choice of language and remember it."""
        await people.set_language(self.db, self.ids, user_id, language)
        self.cache[user_id] = language

    def forget(self, user_id: int) -> None:
        """Drop what is remembered of the person (their data was erased)."""
        self.cache.pop(user_id, None)

    async def set_reachable(self, chat_id: int, reachable: bool) -> bool:
        """Record whether the bot can write to the person (False: they blocked it)."""
        return await people.set_reachable(self.db, self.ids, chat_id, reachable)
