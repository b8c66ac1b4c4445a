"""The client space in every language: each catalogue translates every message the pages use, and each page
renders with nothing left in English."""
from __future__ import annotations

import os
import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from admin_app.client_space import TRANSLATIONS
from admin_app.client_space.languages import LOCALES
from tests.test_client_space import files, invite, accept  # noqa: F401  (fixtures and helpers)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRANSLATED = [code for code in LOCALES if code != "en"]
PAGES = ("/my/", "/my/plan", "/my/appointments", "/my/opportunities", "/my/messages", "/my/talk-now")


def used_messages() -> set[str]:
    """Every message the client space's code and templates ask to translate, extracted afresh."""
    found = set()
    method_map = [("admin_app/client_space/**.py", "python"), ("admin_app/templates/client/**.html", "jinja2")]
    for _file, _line, message, _comments, _context in extract_from_dir(ROOT, method_map, keywords={"_": None, "gettext": None}):
        if isinstance(message, str) and message:
            found.add(message)
    return found


def catalogue(code):
    with open(os.path.join(TRANSLATIONS, code, "LC_MESSAGES", "messages.po"), "rb") as f:
        return read_po(f, locale=code)


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_is_translated(code):
    po = catalogue(code)
    missing = sorted(m for m in used_messages() if not (po.get(m) and po.get(m).string and not po.get(m).fuzzy))
    assert not missing, f"{LOCALES[code].english} lacks: {missing}"
    for message in po:
        if message.id:
            for placeholder in re.findall(r"%\(\w+\)\w", message.id):
                assert placeholder in message.string, (code, message.id)


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_invitation_email_is_in_the_clients_language_then_in_english(code):
    from admin_app.client_space.service import INVITATION_HOURS, invitation_email

    link = "https://cases.e4e.example.org/my/welcome/abc"
    english_subject, english_body = invitation_email(link, "en")
    subject, body = invitation_email(link, code)
    own_subject, _, rest = subject.partition(" / ")
    own_body, _, after = body.partition("\n---\n\n")
    assert rest == english_subject and after == english_body  # the English follows, for whoever helps them read it
    assert own_subject != english_subject and "invitation" not in own_body and "password" not in own_body
    assert link in own_body and str(INVITATION_HOURS) in own_body


def test_the_invitation_email_is_english_alone_for_english_or_an_unknown_language():
    from admin_app.client_space.service import invitation_email

    english = invitation_email("https://x.example/my/welcome/abc", "en")
    assert english[0] == "Your invitation from Enterprise for Employment" and "\n---\n" not in english[1]
    assert invitation_email("https://x.example/my/welcome/abc", None) == english
    assert invitation_email("https://x.example/my/welcome/abc", "../../en") == english


@pytest.mark.parametrize("code", TRANSLATED)
def test_compiled_catalogue_matches_its_source(code):
    po = catalogue(code)
    with open(os.path.join(TRANSLATIONS, code, "LC_MESSAGES", "messages.mo"), "rb") as f:
        mo = read_mo(f)
    assert {m.id: m.string for m in po if m.id} == {m.id: m.string for m in mo if m.id}, "run make translations"


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_client_page_renders_in_the_language(app, login, files, code):  # noqa: F811
    me = accept(app, invite(app, login, files["mine"], "jay@example.org"))
    from tests.conftest import csrf_token

    me.post("/my/language", data={"language": code, "csrf_token": csrf_token(me, "/my/")})
    english = [m for m in used_messages() if "%" not in m and len(m) > 4 and catalogue(code).get(m).string != m]
    for path in PAGES:
        page = me.get(path).get_data(as_text=True)
        assert f'lang="{code}" dir="{"rtl" if LOCALES[code].rtl else "ltr"}"' in page
        left = [m for m in english if m in page]
        assert not left, f"{path} in {LOCALES[code].english} still shows {left}"
