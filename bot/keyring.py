"""Which keys the bot runs with, and when it must refuse to run.

A database that holds data is opened only with a key that opens its check value. A lost
``ENCRYPTION_KEY`` or a restore without the key file stops the bot with one line (exit 2):
making a new key instead would leave the old data unreadable and split the database across
two keys. A new key is generated only for a new, empty database.
"""

from __future__ import annotations

from enum import Enum

from bot.config import Settings
from bot.crypto import Cipher, load_or_create_key_file
from bot.errors import ConfigError, CryptoError
from bot.storage import encrypted, meta

OLD_DEFAULT = "secret.key"  # where earlier versions generated the key, inside DATA_DIR


class KeyState(Enum):
    """How the configured key stands with the database."""

    MATCHES = "matches"  # a key is configured and opens the database (or it is new)
    NEW = "new"  # no key and a new database: a key file will be generated
    MISSING = "missing"  # no key, and the database holds data
    WRONG = "wrong"  # a key, and it does not open the database


def configured_keys(settings: Settings) -> tuple[str, ...]:
    """The keys from ENCRYPTION_KEY or the existing key file; () when there are none."""
    if settings.encryption_keys:
        return settings.encryption_keys
    if settings.key_file.exists():
        return load_or_create_key_file(settings.key_file)
    return ()


def state(settings: Settings) -> KeyState:
    """Compare the configured key with the database, without changing either."""
    found = meta.inspect(settings.database_path, encrypted.ENCRYPTED)
    keys = configured_keys(settings)
    if not keys:
        return KeyState.MISSING if found.holds_data else KeyState.NEW
    cipher = Cipher(keys)
    if found.check is not None:
        return KeyState.MATCHES if meta.matches(cipher, found.check) else KeyState.WRONG
    if found.sample is not None:  # a database from before the check value
        try:
            cipher.decrypt(found.sample)
        except CryptoError:
            return KeyState.WRONG
    return KeyState.MATCHES


def explain(settings: Settings, key_state: KeyState) -> str:
    """One line for the operator about a state the bot refuses to run in."""
    where = f"the database at {settings.database_path} holds data"
    if key_state is KeyState.WRONG:
        return (
            f"The encryption key does not open the database: {where} written under another "
            "key. Configure the key it was written with (ENCRYPTION_KEY or the key file); "
            "nothing was changed."
        )
    old = settings.data_dir / OLD_DEFAULT
    hint = (
        f" A key file lies at {old}, where earlier versions kept it: move it to "
        f"{settings.key_file} (or set ENCRYPTION_KEY_FILE)."
        if old.exists() and old != settings.key_file
        else ""
    )
    return (
        f"No encryption key found (ENCRYPTION_KEY is empty and there is no {settings.key_file}) "
        f"but {where}: restore its key; no new key is made for it.{hint}"
    )


def refuse_unusable(settings: Settings) -> KeyState:
    """The key's state; ConfigError (one line, exit status 2) for a wrong or a missing key."""
    key_state = state(settings)
    if key_state in (KeyState.MISSING, KeyState.WRONG):
        raise ConfigError([explain(settings, key_state)])
    return key_state


def resolve_keys(settings: Settings) -> tuple[str, ...]:
    """The keys to run with; a new key file only for a new database."""
    if refuse_unusable(settings) is KeyState.NEW:
        try:
            return load_or_create_key_file(settings.key_file)
        except OSError as exc:  # a read-only place: a credentials folder, a secrets mount
            raise ConfigError(
                [
                    f"No encryption key, and none can be created at {settings.key_file} "
                    f"({exc.strerror}): set ENCRYPTION_KEY, or put a key file there "
                    "(python -m bot genkey)."
                ]
            ) from exc
    return configured_keys(settings)
