"""Keyed pseudonyms for the evaluator: stable across extracts, not reversible without the key."""
from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

DIGITS = 16  # 64 bits of HMAC-SHA256: no collision to expect among millions of people
# Staff have no pseudonym: the extract leaves them out (disclosure control, docs/exports.md).
PREFIXES = {"client": "C", "employer": "E", "job_type": "J"}


class PseudonymKeyMissing(ValueError):
    """No pseudonym key is configured, so nothing may go to the evaluator."""


class Pseudonyms:
    """HMAC-SHA256 of a kind and a value with the configured key, as "<prefix>-<16 hex digits>"."""

    def __init__(self, key: str) -> None:
        if not key:
            raise PseudonymKeyMissing("No pseudonym key is set (PSEUDONYM_KEY); the evaluator extract needs one.")
        self._key = key.encode()
        self.of = lru_cache(maxsize=100_000)(self._of)
        # A case file's rows come one after another: a small cache makes its pseudonym once for all of them
        # without keeping every client's.
        self._client = lru_cache(maxsize=64)(self._of)

    def _of(self, kind: str, value: str) -> str:
        digest = hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        return f"{PREFIXES[kind]}-{digest[:DIGITS]}"

    def client(self, reference: object) -> str:
        return self._client("client", str(reference))

    def employer(self, employer_id: object) -> str | None:
        return self.of("employer", str(employer_id)) if employer_id is not None else None

    def job_type(self, text: str | None) -> str | None:
        """Job types that differ only in case and spacing get one pseudonym (as the diversity item counts them)."""
        normal = " ".join((text or "").split()).casefold()
        return self.of("job_type", normal) if normal else None
