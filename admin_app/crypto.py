"""Field-level encryption for criminal-offence and special-category text (MultiFernet)."""
from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from admin_app.fields import StringField

_TOKEN_PREFIX = "gAAAAA"  # every Fernet token starts with the version byte 0x80
_cipher: MultiFernet | None = None


def configure(keys: list[str]) -> None:
    """Install the keys; the first encrypts, all of them decrypt (rotation)."""
    global _cipher
    if not keys:
        raise ValueError("at least one field-encryption key is needed")
    _cipher = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def cipher() -> MultiFernet:
    if _cipher is None:
        raise RuntimeError("field encryption is not configured; create_app() or connect() does it")
    return _cipher


def encrypt(text: str) -> str:
    return cipher().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    return cipher().decrypt(token.encode("ascii")).decode("utf-8")


def rotate(token: str) -> str:
    """Re-encrypt a token under the current first key."""
    return cipher().rotate(token.encode("ascii")).decode("ascii")


def is_token(value: object) -> bool:
    return isinstance(value, str) and value.startswith(_TOKEN_PREFIX)


class EncryptedStringField(StringField):
    """A string stored as a Fernet token; the application only ever sees plain text."""

    encrypted = True

    def to_mongo(self, value):
        if value in (None, ""):
            return value
        return encrypt(str(value))

    def to_python(self, value):
        if is_token(value):
            try:
                return decrypt(value)
            except InvalidToken:
                # A key has been removed before rotation: show that, never the token.
                return "[cannot decrypt: encryption key missing]"
        return value

    def prepare_query_value(self, op, value):
        raise ValueError("encrypted fields cannot be queried")
