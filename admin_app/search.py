"""Search by reference and name: normalised keys stored on each case file, matched by anchored prefix.

An unanchored or case-insensitive regular expression makes MongoDB read every case file (or every
index key); a case-sensitive prefix (`^smi`) on keys stored already folded reads only the index
range that starts with it. So each case file keeps `search_keys`, made here from its reference and
names, and a search term is folded the same way before it is matched.
"""
from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s\-‐-―'’`.,/_]+")
_NUMBER = re.compile(r"\d+$")


def fold(text: str | None) -> str:
    """Lower case, accents dropped, letters and digits only: "O’Néill" -> "oneill"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum())


def _words(text: str | None) -> list[str]:
    return [fold(part) for part in _SEPARATORS.split(text or "") if fold(part)]


def client_search_keys(reference: str | None, first_name: str | None, last_name: str | None) -> list[str]:
    """Every key a case file is found by: its whole reference and each part of it (with and without
    letters before the number: "E4E-T0001" -> e4et0001, e4e, t0001, 0001), and each name whole and
    word by word ("Smith-Jones" -> smithjones, smith, jones)."""
    keys = {fold(reference)}
    for part in _words(reference):
        keys.add(part)
        number = _NUMBER.search(part)
        if number:
            keys.add(number.group())
    for name in (first_name, last_name):
        keys.add(fold(name))
        keys.update(_words(name))
    keys.discard("")
    return sorted(keys)


def prefix_match(field: str, term: str | None) -> dict | None:
    """The MongoDB match for a search: every word of the term (split at spaces, each folded whole, so
    "E4E-T0001" and "O'Neill" are one word each) starts some key. None if the term has no letter or
    digit (no search)."""
    words = [fold(word) for word in (term or "").split() if fold(word)]
    if not words:
        return None
    conditions = [{field: {"$regex": "^" + re.escape(word)}} for word in dict.fromkeys(words)]
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}
