"""The client space (/my/): a client's own corner of their case file, in their language (docs/client-space.md)."""
from __future__ import annotations

import os

from flask import Flask, abort, redirect, request, url_for
from flask_babel import Babel

TRANSLATIONS = os.path.join(os.path.dirname(__file__), "translations")
#: The staff app's endpoints a client may reach: signing in and out, and the static files.
CLIENT_ALLOWED_ENDPOINTS = ("security.login", "security.logout", "static")


def init_app(app: Flask) -> None:
    from admin_app.client_space.views import bp, is_client, locale

    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/London")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", TRANSLATIONS)
    Babel(app, locale_selector=locale)
    app.register_blueprint(bp)

    @app.before_request
    def keep_clients_in_their_space():
        """A client reaches nothing of the staff app: its start page sends them to theirs, the rest is refused."""
        if not is_client() or request.blueprint == "client_space" or request.endpoint in CLIENT_ALLOWED_ENDPOINTS:
            return None
        if request.path in ("/", "/admin", "/admin/"):
            return redirect(url_for("client_space.home"))
        from admin_app.alerts import note_probe

        note_probe("refused", "clients", None, f"client refused {request.method} {request.path[:200]}")
        abort(403)
