"""Issuing and checking evaluator API tokens.

A token is an itsdangerous-signed pair (the token's id, a random secret): the signature (the app's secret key)
turns away forged or mangled tokens before any database read, and only a SHA-256 hash of the secret is stored,
so a copy of the database opens nothing. A token works only while it is not revoked or expired, its user is
active and holds the `evaluator.api` permission, and it carries the scope the call needs.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from itsdangerous import BadSignature, URLSafeSerializer

from admin_app.models.api_tokens import ApiToken

SALT = "evaluator-api-token"
PERMISSION = "evaluator.api"
PREFIX = "e4e_"


class TokenRefused(Exception):
    """The request's token does not open the API; the message says why, in words a caller can act on."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(token: ApiToken, secret_key: str) -> str:
    """Give a new (unsaved or saved) token its secret, save it, and return the token text to show once."""
    secret = secrets.token_urlsafe(32)
    token.secret_hash = _hash(secret)
    token.hint = secret[-6:]
    token.save()
    return PREFIX + _serializer(secret_key).dumps([str(token.pk), secret])


@dataclass(frozen=True)
class Granted:
    token: ApiToken
    user: object


def check(text: str | None, secret_key: str, scope: str, today: date) -> Granted:
    """The token and user a bearer token text grants `scope` to, or TokenRefused."""
    if not text:
        raise TokenRefused("No token: send it as “Authorization: Bearer <token>”.")
    if not text.startswith(PREFIX) or len(text) > 400:
        raise TokenRefused("This is not an evaluator API token.")
    try:
        token_id, secret = _serializer(secret_key).loads(text[len(PREFIX):])
    except (BadSignature, ValueError, TypeError):
        raise TokenRefused("This is not an evaluator API token.") from None
    token = ApiToken.objects(pk=token_id).first() if isinstance(token_id, str) and len(token_id) == 24 else None
    if token is None or not isinstance(secret, str) or not token.secret_hash \
            or not hmac.compare_digest(token.secret_hash, _hash(secret)):
        raise TokenRefused("This token is not known.")
    if token.revoked_at is not None:
        raise TokenRefused("This token has been revoked; ask an administrator for a new one.")
    if token.expires_on < today:
        raise TokenRefused("This token has expired; ask an administrator for a new one.")
    user = token.user
    if user is None or not user.active:
        raise TokenRefused("The account this token belongs to is not active.")
    if not user.has_permission(PERMISSION):
        raise TokenRefused("Your role does not allow the evaluator API.", 403)
    if scope not in (token.scopes or []):
        raise TokenRefused(f"This token does not allow {scope}; ask an administrator to add it.", 403)
    ApiToken.objects(pk=token.pk).update_one(set__last_used_at=datetime.utcnow())
    return Granted(token, user)


def revoke(token: ApiToken, by: str) -> bool:
    """Revoke a token now (a conditional write: revoking twice keeps the first time and person)."""
    return bool(ApiToken.objects(pk=token.pk, revoked_at=None).update_one(
        set__revoked_at=datetime.utcnow(), set__revoked_by=by))
