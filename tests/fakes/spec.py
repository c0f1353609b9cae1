"""The Bot API, machine-readable: methods, their parameters and types from ``api.json``.

The fake checks every call against the published API rather than a hand-kept list, so a
parameter renamed or dropped by Telegram shows up as a violation; both transports also read
the parameter types here to decode values the way Telegram does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final

SPEC_ENV_VAR: Final = "SANAD_BOT_API_SPEC"
"""Environment variable that may point at ``api.json`` if it is not in ``../shared``."""

_SPEC_RELATIVE_PATH: Final = Path("shared") / "telegram-bot-api" / "api.json"

# What ``telegram.ext.Defaults`` may add to *every* call routed through PTB's _send_message,
# whether the method takes it or not (e.g. parse_mode on sendLocation). Telegram ignores them.
PTB_DEFAULT_PARAMS: Final = frozenset(
    {
        "allow_sending_without_reply", "disable_notification", "do_quote",
        "explanation_parse_mode", "link_preview_options", "parse_mode", "protect_content",
        "question_parse_mode", "text_parse_mode",
    }
)  # fmt: skip


@dataclass(frozen=True)
class ApiMethod:
    """One Bot API method as ``api.json`` describes it."""

    name: str
    fields: Mapping[str, tuple[str, ...]]
    """Parameter name -> accepted types (``"Integer"``, ``"InlineKeyboardMarkup"``...)."""
    required: frozenset[str]
    returns: tuple[str, ...]

    def types(self, name: str) -> tuple[str, ...]:
        """The types parameter ``name`` accepts; empty if the method does not take it."""
        return self.fields.get(name, ())

    def unknown(self, present: Iterable[str]) -> list[str]:
        """The parameters in ``present`` the method does not take, sorted (those PTB's
        ``Defaults`` add to every call are not counted: Telegram ignores them)."""
        return sorted(set(present) - set(self.fields) - PTB_DEFAULT_PARAMS)

    def missing(self, present: Iterable[str]) -> list[str]:
        """The required parameters not in ``present``, sorted."""
        return sorted(self.required - set(present))


class ApiSpec:
    """The Bot API methods from ``api.json`` (the PaulSonOfLars/telegram-bot-api-spec format).

    Use :meth:`load`; it finds ``shared/telegram-bot-api/api.json`` in a parent directory of
    this file, or the file named by the ``SANAD_BOT_API_SPEC`` environment variable, and caches
    the parsed result per path.
    """

    _cache: ClassVar[dict[Path, ApiSpec]] = {}
    """Parsed specs by resolved path (filled lazily by :meth:`load`)."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        """Index the ``methods`` of a decoded ``api.json``."""
        self.version: str = str(data.get("version", "unknown"))
        self._methods: dict[str, ApiMethod] = {}
        for name, method in data["methods"].items():
            fields = method.get("fields", [])
            self._methods[name.lower()] = ApiMethod(
                name=name,
                fields={f["name"]: tuple(f.get("types", ())) for f in fields},
                required=frozenset(f["name"] for f in fields if f.get("required")),
                returns=tuple(method.get("returns", ())),
            )

    @classmethod
    def default_path(cls) -> Path:
        """Where ``api.json`` is: ``$SANAD_BOT_API_SPEC`` or ``<ancestor>/shared/...``."""
        override = os.environ.get(SPEC_ENV_VAR)
        if override:
            return Path(override)
        here = Path(__file__).resolve()
        for parent in here.parents:
            candidate = parent / _SPEC_RELATIVE_PATH
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(
            f"Cannot find {_SPEC_RELATIVE_PATH} above {here.parent}; "
            f"set {SPEC_ENV_VAR} to the path of the Bot API's api.json"
        )

    @classmethod
    def load(cls, path: Path | str | None = None) -> ApiSpec:
        """Parse (once per path) and return the spec at ``path`` or :meth:`default_path`."""
        resolved = (Path(path) if path is not None else cls.default_path()).resolve()
        spec = cls._cache.get(resolved)
        if spec is None:
            spec = cls(json.loads(resolved.read_text(encoding="utf-8")))
            cls._cache[resolved] = spec
        return spec

    def method(self, name: str) -> ApiMethod | None:
        """The method called ``name`` (Telegram matches method names case-insensitively)."""
        return self._methods.get(name.lower())

    def __contains__(self, name: object) -> bool:
        """Whether ``name`` is a Bot API method."""
        return isinstance(name, str) and name.lower() in self._methods
