"""Field encryption for personal data at rest (cryptography's Fernet, via MultiFernet).

Fernet is authenticated encryption (AES-128-CBC + HMAC-SHA256) with a versioned token
format; MultiFernet decrypts with any of several keys and encrypts with the first, which is
what key rotation needs. The key never lives in the database: it comes from ENCRYPTION_KEY
(comma-separated, newest first) or from a key file, generated with 0600 permissions on first
run.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.errors import ConfigError, CryptoError

log = logging.getLogger(__name__)


def valid_key(key: str) -> bool:
    """Whether ``key`` is a usable Fernet key (url-safe base64 of 32 bytes)."""
    try:
        Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return False
    return True


def generate_key() -> str:
    """A new random Fernet key."""
    return Fernet.generate_key().decode("ascii")


def load_or_create_key_file(path: Path) -> tuple[str, ...]:
    """Keys from ``path`` (one per line, newest first), creating the file when absent.

    A key file that others may read is refused (ConfigError): whoever can read it can read
    every case, so it is not used until its owner fixes it.
    """
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                [
                    f"The key file {path} has permissions {mode:o}: others may read it. "
                    f"Run: chmod 600 {path}"
                ]
            )
        keys = tuple(line.strip() for line in path.read_text("ascii").splitlines() if line.strip())
        if not keys or not all(valid_key(k) for k in keys):
            raise CryptoError("The key file does not contain valid Fernet keys.")
        return keys
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    log.warning(
        "No ENCRYPTION_KEY was configured: generated a new key file with 0600 permissions. "
        "Back it up separately from the database: without it the data cannot be read."
    )
    return (key,)


class Cipher:
    """Encrypts and decrypts text and JSON values with the configured keys."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise CryptoError("No encryption key configured.")
        self._newest = Fernet(keys[0].encode("ascii"))
        self._fernet = MultiFernet([Fernet(k.encode("ascii")) for k in keys])

    def encrypt(self, text: str) -> bytes:
        """Encrypt a string."""
        return self._fernet.encrypt(text.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        """Decrypt what :meth:`encrypt` produced."""
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken as exc:
            raise CryptoError(
                "A stored value cannot be decrypted with the configured keys."
            ) from exc

    def encrypt_json(self, value: Any) -> bytes:
        """Encrypt any JSON-serialisable value."""
        return self.encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def decrypt_json(self, token: bytes) -> Any:
        """Decrypt what :meth:`encrypt_json` produced."""
        return json.loads(self.decrypt(token))

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt ``token`` under the newest key (unchanged if it already is)."""
        try:
            self._newest.decrypt(token)
        except InvalidToken:
            return self._fernet.rotate(token)
        return token
