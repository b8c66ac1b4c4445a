"""Every setting, read from environment variables, with embedded-mode defaults.

This is the only module that knows which run mode is on: embedded (the default, no
services: mongomock, eager tasks, mails to a folder) or production (APP_ENV=production,
every secret from the environment, refusing to start without them).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

#: Production asks every member of staff for a second factor: every staff role sees some part of a case file.
EVERY_STAFF_ROLE = "admin,manager,worker,admin_staff,grant_panel,evaluator,commissioner"

DEMO_SECRET_KEY = "demo-secret-key-not-for-production"
DEMO_PASSWORD_SALT = "demo-password-salt"
# A valid Fernet key that is public: fine for demo data, refused in production.
DEMO_FIELD_KEY = "ZGVtby1maWVsZC1rZXktbm90LWZvci1wcm9kdWN0aW8="
DEMO_PSEUDONYM_KEY = "demo-pseudonym-key"
DEMO_TOTP_SECRET = "demo-totp-secret-not-for-production"
DEMO_PASSWORD = "demo-password-2026"

ROOT = Path(__file__).resolve().parent


class ConfigError(RuntimeError):
    """Raised when production settings are missing; the message is one clear line."""


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@dataclass(frozen=True)
class Settings:
    app_env: str
    embedded: bool
    secret_key: str
    password_salt: str
    mongodb_uri: str | None
    mongodb_db: str
    field_keys: list[str]
    pseudonym_key: str
    totp_secret: str
    broker_url: str | None
    result_backend: str | None
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_tls: bool
    mail_from: str
    mail_folder: Path
    session_idle_minutes: int
    two_factor_roles: list[str]
    login_limits: str
    ratelimit_storage_uri: str
    base_url: str
    seed_demo: bool
    mail_retries: int = 5
    #: However active a session is, it ends this many hours after its sign-in.
    session_max_hours: int = 12
    mail_retry_seconds: int = 60
    export_retention_days: int = 90
    #: Minutes after a visit's end before a missing check-out alerts the managers (lone working).
    lone_working_grace_minutes: int = 30
    #: How often beat (or, in embedded mode, the web app) runs the export dispatcher and sweeper.
    sweep_seconds: int = 60
    # Failed sign-ins and second-factor codes from one address, whichever accounts they try.
    address_limits: str = "20 per minute;200 per hour"
    # Disclosure control of the evaluator extract: coded values held by fewer people show as "other"; dates
    # are generalised to this precision (month, quarter or year).
    evaluator_min_group: int = 5
    evaluator_date_precision: str = "month"
    # Calls to the evaluator API allowed per token (flask-limiter notation).
    evaluator_api_limits: str = "60 per minute;2000 per hour"
    # Retention (admin_app/privacy/retention.py): a closed case file is anonymised this many years after closing;
    # audit entries are deleted this many years after they were written.
    case_file_retention_years: int = 6
    audit_retention_years: int = 7
    extra: dict = field(default_factory=dict)

    def flask_config(self) -> dict:
        """The Flask and extension settings derived from these values."""
        production = not self.embedded
        return {
            "SECRET_KEY": self.secret_key,
            "APP_ENV": self.app_env,
            "EMBEDDED": self.embedded,
            "SETTINGS": self,
            "PERMANENT_SESSION_LIFETIME": timedelta(minutes=self.session_idle_minutes),
            "SESSION_REFRESH_EACH_REQUEST": True,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": production,
            # Over HTTPS the "__Host-" prefix binds the cookies to this host: no subdomain can set or read them.
            "SESSION_COOKIE_NAME": "__Host-session" if production else "session",
            "REMEMBER_COOKIE_NAME": "__Host-remember_token" if production else "remember_token",
            "REMEMBER_COOKIE_SECURE": production,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            # A session restored from a remember cookie must sign in again anyway (admin_app/security.py).
            "REMEMBER_COOKIE_DURATION": timedelta(minutes=self.session_idle_minutes),
            "PREFERRED_URL_SCHEME": "https" if production else "http",
            "WTF_CSRF_ENABLED": True,
            "WTF_CSRF_TIME_LIMIT": None,
            # Flask-Security
            "SECURITY_PASSWORD_HASH": "argon2",
            "SECURITY_PASSWORD_SALT": self.password_salt,
            "SECURITY_PASSWORD_LENGTH_MIN": 12,
            # Common, guessable and dictionary passwords are refused wherever a password is set (zxcvbn's lists).
            "SECURITY_PASSWORD_COMPLEXITY_CHECKER": "zxcvbn",
            "SECURITY_ZXCVBN_MINIMUM_SCORE": 3,
            "SECURITY_TRACKABLE": True,
            "SECURITY_CHANGEABLE": True,
            "SECURITY_SEND_PASSWORD_CHANGE_EMAIL": False,
            "SECURITY_REGISTERABLE": False,
            "SECURITY_RECOVERABLE": False,
            "SECURITY_TWO_FACTOR": True,
            "SECURITY_TWO_FACTOR_ENABLED_METHODS": ["authenticator"],
            # Unused: asking for help with the second factor alerts the administrators (admin_app/account_mail.py).
            "SECURITY_TWO_FACTOR_RESCUE_MAIL": self.mail_from,
            "SECURITY_TOTP_SECRETS": {"1": self.totp_secret},
            "SECURITY_TOTP_ISSUER": "Enterprise for Employment",
            "SECURITY_DEFAULT_REMEMBER_ME": False,
            "SECURITY_POST_LOGIN_VIEW": "/admin/",
            "SECURITY_LOGOUT_METHODS": ["POST"],
            # Off: its header reads "no-store=True" under Werkzeug 3.1; admin_app/security.py sends "no-store".
            "SECURITY_CACHE_CONTROL": {},
            "DEMO_PASSWORD": DEMO_PASSWORD if self.embedded else None,
            "SECURITY_POST_LOGOUT_VIEW": "/login",
            "SECURITY_USERNAME_ENABLE": False,
            "SECURITY_RETURN_GENERIC_RESPONSES": True,
            "SECURITY_MSG_GENERIC_AUTHN_FAILED": ("Email or password is not right.", "error"),
            "SECURITY_MSG_INVALID_PASSWORD": ("Email or password is not right.", "error"),
            "SECURITY_MSG_USER_DOES_NOT_EXIST": ("Email or password is not right.", "error"),
            # Flask-Limiter
            "RATELIMIT_STORAGE_URI": self.ratelimit_storage_uri,
            "RATELIMIT_HEADERS_ENABLED": True,
            # Flask-Admin
            "FLASK_ADMIN_SWATCH": "cerulean",
        }


DATE_PRECISIONS = ("month", "quarter", "year")


def _whole(value: str | None, name: str, low: int) -> int:
    try:
        number = int(value or "")
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if number < low:
        raise ConfigError(f"{name} must be at least {low}")
    return number


def load_settings(environ: dict | None = None) -> Settings:
    """Read settings from the environment; in production, refuse demo or missing secrets."""
    env = dict(os.environ if environ is None else environ)
    app_env = env.get("APP_ENV", "embedded").strip().lower() or "embedded"
    if app_env not in {"embedded", "production"}:
        raise ConfigError(f"APP_ENV must be 'embedded' or 'production', not {app_env!r}")
    embedded = app_env == "embedded"

    def get(name: str, default: str | None = None) -> str | None:
        value = env.get(name)
        return value if value not in (None, "") else default

    field_keys = _csv(get("FIELD_ENCRYPTION_KEYS", "") or "")
    broker = get("CELERY_BROKER_URL")
    settings = Settings(
        app_env=app_env,
        embedded=embedded,
        secret_key=get("SECRET_KEY", DEMO_SECRET_KEY if embedded else None) or "",
        password_salt=get("SECURITY_PASSWORD_SALT", DEMO_PASSWORD_SALT if embedded else None) or "",
        mongodb_uri=get("MONGODB_URI"),
        mongodb_db=get("MONGODB_DB", "e4e") or "e4e",
        field_keys=field_keys or ([DEMO_FIELD_KEY] if embedded else []),
        pseudonym_key=get("PSEUDONYM_KEY", DEMO_PSEUDONYM_KEY if embedded else None) or "",
        totp_secret=get("TOTP_SECRET", DEMO_TOTP_SECRET if embedded else None) or "",
        broker_url=broker,
        result_backend=get("CELERY_RESULT_BACKEND"),
        smtp_host=get("SMTP_HOST"),
        smtp_port=int(get("SMTP_PORT", "587") or 587),
        smtp_user=get("SMTP_USER"),
        smtp_password=get("SMTP_PASSWORD"),
        smtp_tls=(get("SMTP_TLS", "true") or "true").lower() in {"1", "true", "yes"},
        mail_from=get("MAIL_FROM", "reports@e4e.example.org") or "",
        mail_folder=Path(get("MAIL_FOLDER", str(ROOT / "var" / "mail")) or ""),
        session_idle_minutes=int(get("SESSION_IDLE_MINUTES", "30") or 30),
        two_factor_roles=_csv(get("TWO_FACTOR_REQUIRED_ROLES", "" if embedded else EVERY_STAFF_ROLE) or ""),
        login_limits=get("LOGIN_RATE_LIMITS", "5 per minute;30 per hour") or "",
        ratelimit_storage_uri=get("RATELIMIT_STORAGE_URI", broker if broker and broker.startswith("redis") else "memory://") or "memory://",
        base_url=get("BASE_URL", "http://127.0.0.1:5000") or "",
        session_max_hours=_whole(get("SESSION_MAX_HOURS", "12"), "SESSION_MAX_HOURS", low=1),
        mail_retries=int(get("MAIL_RETRIES", "5") or 5),
        mail_retry_seconds=int(get("MAIL_RETRY_SECONDS", "60") or 60),
        export_retention_days=int(get("EXPORT_RETENTION_DAYS", "90") or 90),
        lone_working_grace_minutes=int(get("LONE_WORKING_GRACE_MINUTES", "30") or 30),
        sweep_seconds=int(get("EXPORT_SWEEP_SECONDS", "60") or 60),
        address_limits=get("ADDRESS_RATE_LIMITS", "20 per minute;200 per hour") or "",
        seed_demo=embedded and (get("SEED_DEMO", "true") or "true").lower() in {"1", "true", "yes"},
        evaluator_min_group=_whole(get("EVALUATOR_MIN_GROUP", "5"), "EVALUATOR_MIN_GROUP", low=2),
        evaluator_date_precision=(get("EVALUATOR_DATE_PRECISION", "month") or "month").strip().lower(),
        evaluator_api_limits=get("EVALUATOR_API_RATE_LIMITS", "60 per minute;2000 per hour") or "60 per minute",
        case_file_retention_years=_whole(get("CASE_FILE_RETENTION_YEARS", "6"), "CASE_FILE_RETENTION_YEARS", low=1),
        audit_retention_years=_whole(get("AUDIT_RETENTION_YEARS", "7"), "AUDIT_RETENTION_YEARS", low=1),
    )
    if broker and not settings.mongodb_uri:
        raise ConfigError("CELERY_BROKER_URL is set but MONGODB_URI is not: web app and worker would each use "
                          "their own empty in-memory database; set MONGODB_URI to the shared MongoDB")
    if settings.evaluator_date_precision not in DATE_PRECISIONS:
        raise ConfigError(f"EVALUATOR_DATE_PRECISION must be one of {', '.join(DATE_PRECISIONS)}, "
                          f"not {settings.evaluator_date_precision!r}")
    if not embedded:
        _check_production(settings)
    return settings


def _check_production(s: Settings) -> None:
    demo = {DEMO_SECRET_KEY, DEMO_PASSWORD_SALT, DEMO_FIELD_KEY, DEMO_PSEUDONYM_KEY, DEMO_TOTP_SECRET}
    missing = []
    checks = [
        ("SECRET_KEY", s.secret_key),
        ("SECURITY_PASSWORD_SALT", s.password_salt),
        ("MONGODB_URI", s.mongodb_uri),
        ("FIELD_ENCRYPTION_KEYS", ",".join(s.field_keys)),
        ("PSEUDONYM_KEY", s.pseudonym_key),
        ("TOTP_SECRET", s.totp_secret),
        ("CELERY_BROKER_URL", s.broker_url),
        ("SMTP_HOST", s.smtp_host),
    ]
    for name, value in checks:
        if not value or value in demo or any(part in demo for part in value.split(",")):
            missing.append(name)
    if missing:
        raise ConfigError(
            "Production mode needs these settings (unset or left at demo values): " + ", ".join(missing)
        )
    if len(s.secret_key) < 32:
        raise ConfigError("Production mode needs SECRET_KEY of at least 32 characters")
    from cryptography.fernet import Fernet

    for key in s.field_keys:
        try:
            Fernet(key.encode())
        except Exception:
            raise ConfigError("FIELD_ENCRYPTION_KEYS must be comma-separated Fernet keys (Fernet.generate_key())") from None
