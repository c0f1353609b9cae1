"""The project's exception hierarchy, in one place.

SanadError
├── ConfigError          configuration is missing or invalid (one message per problem)
├── StorageError         the database cannot be opened or migrated
├── CryptoError          a value cannot be encrypted or decrypted (wrong or missing key)
├── FormError            a form definition under data/forms/ is invalid
├── CaseNotFound         no case has this reference (or it was erased)
├── InvalidTransition    the action is not allowed from the case's current status
└── Invalid              an answer typed or tapped by a person cannot be accepted

Messages never contain personal data or secrets: they name fields, not values.
"""

from __future__ import annotations


class SanadError(Exception):
    """Base class of every error raised by Sanad itself."""


class ConfigError(SanadError):
    """The configuration has one or more problems; ``problems`` lists them one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class StorageError(SanadError):
    """The database cannot be opened, migrated or written."""


class CryptoError(SanadError):
    """A value cannot be encrypted or decrypted."""


class FormError(SanadError):
    """A form definition is invalid."""


class CaseNotFound(SanadError):
    """No case has this reference."""


class InvalidTransition(SanadError):
    """The action is not allowed from the case's current status."""

    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"{action} is not allowed from {status}")
        self.action = action
        self.status = status


class Invalid(SanadError):
    """An answer that cannot be accepted; ``reason`` names why, ``limits`` the bounds."""

    def __init__(self, reason: str, **limits: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limits = limits
