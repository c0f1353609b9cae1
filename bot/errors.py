"""The project's exception hierarchy, in one place.

SanadError
├── ConfigError          configuration is missing or invalid (one message per problem)
├── StorageError         the database cannot be opened or migrated
├── CryptoError          a value cannot be encrypted or decrypted (wrong or missing key)
└── FormError            a form definition under data/forms/ is invalid

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
