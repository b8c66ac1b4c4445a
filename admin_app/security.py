"""Sign-in, permissions, row-level scope, idle timeout, two-factor enforcement and security headers."""
from __future__ import annotations

import ipaddress
import uuid
from datetime import datetime, timezone

from bson import ObjectId
from flask import Flask, flash, redirect, request, session, url_for
from flask_login import current_user, user_logged_out
from flask_security import (
    MongoEngineUserDatastore, logout_user, password_changed, tf_disabled, tf_profile_changed, user_authenticated,
)
from mongoengine import NotUniqueError, get_db

from admin_app import audit, formats
from flask_limiter import Limiter

from admin_app.extensions import security
from admin_app.models.people import Role, User
from admin_app.permissions import (
    ADMIN_ROLE, DEFAULT_CHANGES, DEFAULT_ROLE_PERMISSIONS, ROLE_DESCRIPTIONS, STANDING_PERMISSIONS, expand,
)

#: The client space's role (admin_app/client_space/) and its idle timeout.
CLIENT_ROLE = "client"
CLIENT_IDLE_MINUTES = 15

# Every permission the app knows, filled by the secured views as they register.
PERMISSIONS: dict[str, str] = dict(STANDING_PERMISSIONS)

datastore = MongoEngineUserDatastore(None, User, Role)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'self'"
)


def register_permission(name: str, label: str) -> None:
    PERMISSIONS.setdefault(name, label)


def has_permission(permission: str, user=None) -> bool:
    user = user or current_user
    return bool(getattr(user, "is_authenticated", False)) and user.has_permission(permission)


# --- row-level scope ---------------------------------------------------------------------------

def sees_everything(user=None) -> bool:
    return has_permission("caseload.all", user)


def scope_filter(model, user=None) -> dict:
    """mongoengine filter arguments limiting `model` to what the user may see."""
    field = getattr(model, "scope_field", None)
    user = user or current_user
    if field is None or sees_everything(user):
        return {}
    if not getattr(user, "is_authenticated", False):
        return {f"{field}__in": []}
    return {field: user.pk}


def scope_match(model, user=None) -> dict:
    """The same scope as a raw MongoDB match, for projections and pipelines."""
    field = getattr(model, "scope_field", None)
    user = user or current_user
    if field is None or sees_everything(user):
        return {}
    if not getattr(user, "is_authenticated", False):
        return {"_id": {"$in": []}}
    db_field = model._fields[field].db_field
    return {db_field: ObjectId(str(user.pk))}


def scoped(queryset, user=None):
    return queryset.filter(**scope_filter(queryset._document, user))


# --- roles ------------------------------------------------------------------------------------

def sync_roles(reset: bool = False) -> list[str]:
    """Create the default roles; give admin every permission. Idempotent.

    Existing roles keep what an admin gave them, unless reset is asked for.
    """
    known = set(PERMISSIONS)
    messages = []
    for name, patterns in DEFAULT_ROLE_PERMISSIONS.items():
        defaults = expand(patterns, known)
        role = Role.objects(name=name).first()
        if role is None:
            try:
                Role(name=name, description=ROLE_DESCRIPTIONS.get(name, ""), permissions=defaults,
                     default_changes=sorted(DEFAULT_CHANGES)).save()
                messages.append(f"created role {name} with {len(defaults)} permissions")
            except NotUniqueError:
                pass  # another process starting at the same moment created it first
            continue
        wanted = set(role.permissions)
        for change, rule in DEFAULT_CHANGES.items():
            if change not in (role.default_changes or []):
                wanted = (wanted | {p for p in defaults if p in expand(rule["grant"], known)}) - set(rule["revoke"])
        if reset:
            wanted = set(defaults)
        elif name == ADMIN_ROLE:
            wanted |= set(defaults)
        if sorted(wanted) != sorted(role.permissions) or set(role.default_changes or []) != set(DEFAULT_CHANGES):
            role.permissions = sorted(wanted)
            role.default_changes = sorted(DEFAULT_CHANGES)
            role.save()
            messages.append(f"updated role {name}: {len(wanted)} permissions")
    return messages


# --- request hooks ----------------------------------------------------------------------------

def _idle_timeout():
    """Sign out a user idle for longer than the configured minutes, whatever the cookie says."""
    if not current_user.is_authenticated:
        return None
    settings = _settings()
    now = datetime.now(timezone.utc).timestamp()
    last = session.get("last_seen")
    session.permanent = True
    client = CLIENT_ROLE in current_user.role_names
    # A client's session is shorter: their phone may be shared or lost.
    minutes = min(settings.session_idle_minutes, CLIENT_IDLE_MINUTES) if client else settings.session_idle_minutes
    signed_in_at = session.get("signed_in_at")
    # No last_seen means the session was restored from a remember-me cookie: that needs a sign-in too. However
    # active, a session ends SESSION_MAX_HOURS after its sign-in (a session from before that rule, at once).
    idle = last is None or now - last > minutes * 60
    too_old = signed_in_at is None or now - signed_in_at > settings.session_max_hours * 3600
    if idle or too_old:
        why = "idle timeout" if idle else f"{settings.session_max_hours} hours since sign-in"
        audit.record("logout", collection="users", record_id=current_user.pk, summary=f"signed out after {why}")
        logout_user()
        session.pop("last_seen", None)
        session.pop("signed_in_at", None)
        if client:
            return redirect(url_for("client_space.sign_in"))
        flash("You were signed out after a period of inactivity. Please sign in again." if idle else
              f"You were signed out: a session lasts at most {settings.session_max_hours} hours. Please sign in again.",
              "info")
        return redirect(url_for("security.login", next=request.full_path if request.method == "GET" else None))
    session["last_seen"] = now
    return None


def _require_two_factor():
    """Roles named in TWO_FACTOR_REQUIRED_ROLES must set up TOTP before using the app."""
    if not current_user.is_authenticated:
        return None
    required = set(_settings().two_factor_roles)
    if not required or not (current_user.role_names & required) or current_user.tf_primary_method:
        return None
    if request.endpoint and (request.endpoint.startswith("security.") or request.endpoint == "static"):
        return None
    flash("Your role requires two-factor sign-in. Set up an authenticator app to continue.", "warning")
    return redirect(url_for("security.two_factor_setup"))


def _require_password_change():
    """A user whose password an administrator set must choose their own before doing anything else."""
    if not current_user.is_authenticated or not current_user.must_change_password:
        return None
    if request.endpoint in ("security.change_password", "security.logout", "static"):
        return None
    flash("An administrator set your password. Choose a new one of your own to continue.", "warning")
    return redirect(url_for("security.change_password"))


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("Cache-Control", "no-store")
    if not _settings().embedded:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def _audit_failed_login(response):
    signing_in = request.endpoint in (*SIGN_IN_ENDPOINTS, "security.two_factor_token_validation")
    if signing_in and request.method == "POST" and _attempt_failed(response):
        attempted = _account_tried()
        if response.status_code == 429:
            audit.record("login_failed", collection="users", summary=f"throttled sign-in attempt for {attempted}", actor=attempted or "anonymous")
        else:
            audit.record("login_failed", collection="users", summary=f"failed sign-in for {attempted}", actor=attempted or "anonymous")
    return response


def _on_login(sender, user, **kwargs):
    session["last_seen"] = session["signed_in_at"] = datetime.now(timezone.utc).timestamp()
    audit.record("login", collection="users", record_id=user.pk, summary=f"{user.email} signed in", actor=user.email)


def _on_logout(sender, user, **kwargs):
    if user is not None and getattr(user, "email", None):
        audit.record("logout", collection="users", record_id=user.pk, summary=f"{user.email} signed out", actor=user.email)
        if request.endpoint == "security.logout":
            # Signing out ends every session of the user, not only this browser's (a copied cookie included).
            end_every_session(user)


def _on_password_changed(sender, user, **kwargs):
    if user.must_change_password:
        User.objects(pk=user.pk).update_one(set__must_change_password=False)
        user.must_change_password = False
    tell_account_holder(user, "Your password was changed")


def _on_two_factor_changed(sender, user, **kwargs):
    tell_account_holder(user, "Your two-factor sign-in was set up or changed")


def tell_account_holder(user, what: str) -> None:
    """Email the user that their sign-in changed, when and from where: one they did not make gets noticed."""
    from jobs.celery_app import later

    when = f"{formats.uk_datetime(datetime.now(timezone.utc))} (London time)"
    where = request.remote_addr if request else "unknown"
    later("alerts.email_account_holder", user.email, what,
          f"Enterprise for Employment case management: {what[0].lower()}{what[1:]} on {when}, "
          f"from network address {where}.\n\n"
          "If this was you, there is nothing to do. If it was not, tell an administrator at "
          "once: they can end every session of your account and set a new password.\n")


def end_every_session(user) -> None:
    """A new fs_uniquifier, which Flask-Security loads sessions and remember cookies by: all of them stop working."""
    user.fs_uniquifier = uuid.uuid4().hex
    User.objects(pk=user.pk).update_one(set__fs_uniquifier=user.fs_uniquifier)


def sign_in_address(email: str) -> str:
    """The address as the sign-in form looks it up; ValueError, with the form's message, for one it would refuse."""
    from flask import current_app
    from flask_security.mail_util import EmailValidateException

    try:
        return current_app.extensions["security"].mail_util.normalize(email)
    except EmailValidateException as exc:
        raise ValueError(exc.msg) from None


def password_problems(password: str, **about) -> list[str]:
    """What Flask-Security's password policy (length, common and guessable passwords) finds wrong with a
    password someone is setting; `about` gives the account's own words (email, name), which make a poor password."""
    from flask import current_app

    problems, _ = current_app.extensions["security"].password_util.validate(
        password, True, **{key: value for key, value in about.items() if value})
    return list(problems or [])


def _settings():
    from flask import current_app

    return current_app.config["SETTINGS"]


# --- throttling --------------------------------------------------------------------------------

#: The endpoints that check a secret: the password, the second-factor code, a re-entered password.
SECRET_CHECKING_ENDPOINTS = ("security.login", "security.two_factor_token_validation", "security.verify",
                             "security.change_password", "client_space.sign_in_post")
#: The sign-in forms, where the account tried is the email typed (the client space has its own, in its language).
SIGN_IN_ENDPOINTS = ("security.login", "client_space.sign_in_post")


def _account_tried() -> str:
    """The account a secret is tried against: the email typed at sign-in, else the (half-)signed-in user's."""
    if request.endpoint in SIGN_IN_ENDPOINTS:
        return (request.form.get("email") or "").strip()[:255] or "(no email)"
    if current_user.is_authenticated:
        return current_user.email
    pending = session.get("tf_user_id")
    user = User.objects(fs_uniquifier=str(pending)).only("email").first() if pending else None
    return user.email if user else "(no account)"


def network_of(address: str | None) -> str:
    """Where attempts come from, as the limits count them: an IPv4 address, or the /64 network of an IPv6 one.

    A home, office or phone is given a whole IPv6 /64, so one device can take a fresh address for every try;
    counting single IPv6 addresses would let it step round the per-address limit."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return address or "unknown"
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def client_network() -> str:
    return network_of(request.remote_addr)


def _account_key() -> str:
    return _account_tried().lower()


def _attempt_failed(response) -> bool:
    """Only failed attempts count: a success signs in (or moves on to the second factor) with a redirect."""
    return not current_user.is_authenticated and response.status_code != 302


def _account_locked(limit) -> None:
    account = _account_tried()
    minutes = max(1, limit.limit.get_expiry() // 60)
    from admin_app.alerts import alert_admins_once

    alert_admins_once(f"Account locked after failed sign-ins: {account}",
                      f"Sign-in to {account} is locked for {minutes} minutes after too many failed passwords or "
                      f"codes (last from {request.remote_addr}). If the attempts were not the user's, the "
                      "password may be known to someone else: reset it in the Users screen.",
                      key=f"locked:{account}", minutes=minutes, link="/admin/auditevent/")


def _address_throttled(limit) -> None:
    minutes = max(1, limit.limit.get_expiry() // 60)
    from admin_app.alerts import alert_admins_once

    network = client_network()
    alert_admins_once(f"Sign-ins throttled from {network}",
                      f"Sign-ins from {network} are held for {minutes} minutes after too many failed "
                      "passwords or codes, across any accounts.",
                      key=f"address:{network}", minutes=minutes, link="/admin/auditevent/")


ACCOUNT_LOCKED_MESSAGE = ("Too many failed attempts for this account, so it is locked for now. If the attempts were "
                          "not yours, tell an administrator; administrators have been told.")
ADDRESS_THROTTLED_MESSAGE = ("Too many failed sign-ins from your network address. Administrators have been told.")


def _throttle(app: Flask, limiter: Limiter) -> None:
    """Failed secrets are counted per account whatever the address, and per address whatever the account,
    across the sign-in, second-factor and re-authentication forms; the right secret works again once the
    window has passed."""
    settings = app.config["SETTINGS"]
    per_account = limiter.shared_limit(settings.login_limits, scope="secret-per-account", key_func=_account_key,
                                       methods=["POST"], deduct_when=_attempt_failed, on_breach=_account_locked,
                                       error_message=ACCOUNT_LOCKED_MESSAGE)
    per_address = limiter.shared_limit(settings.address_limits, scope="secret-per-address", key_func=client_network,
                                       methods=["POST"], deduct_when=_attempt_failed, on_breach=_address_throttled,
                                       error_message=ADDRESS_THROTTLED_MESSAGE)
    for endpoint in SECRET_CHECKING_ENDPOINTS:
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = per_address(per_account(app.view_functions[endpoint]))


def init_security(app: Flask) -> None:
    datastore.db = get_db
    security.init_app(app, datastore)
    # One limiter per app, so each app's limits and counts are its own.
    limiter = Limiter(key_func=client_network, app=app, default_limits=[])
    app.extensions["login_limiter"] = limiter
    _throttle(app, limiter)
    app.before_request(_idle_timeout)
    app.before_request(_require_two_factor)
    app.before_request(_require_password_change)
    app.after_request(_audit_failed_login)
    app.after_request(_security_headers)
    user_authenticated.connect(_on_login, app, weak=False)
    user_logged_out.connect(_on_logout, app, weak=False)
    password_changed.connect(_on_password_changed, app, weak=False)
    tf_profile_changed.connect(_on_two_factor_changed, app, weak=False)
    tf_disabled.connect(_on_two_factor_changed, app, weak=False)
