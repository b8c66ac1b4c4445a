"""The languages the client space speaks, and which one a client sees."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str
    english: str  # the name in vocabulary.LANGUAGES (the case file's preferred language)
    own_name: str  # the name in the language itself, for the switcher
    rtl: bool = False


LOCALES = {
    "en": Language("en", "English", "English"),
    "ur": Language("ur", "Urdu", "اردو", rtl=True),
    "pa": Language("pa", "Punjabi", "ਪੰਜਾਬੀ"),
    "pl": Language("pl", "Polish", "Polski"),
    "so": Language("so", "Somali", "Soomaali"),
}
DEFAULT = "en"


def code_for(preferred_language: str | None) -> str:
    """The locale for a case file's preferred language (its name in vocabulary.LANGUAGES); English otherwise."""
    return next((lang.code for lang in LOCALES.values() if lang.english == preferred_language), DEFAULT)


def chosen(account_language: str | None, preferred_language: str | None) -> str:
    """What the client chose in the client space, else their preferred language on the case file."""
    return account_language if account_language in LOCALES else code_for(preferred_language)
