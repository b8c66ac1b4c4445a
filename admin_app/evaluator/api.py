"""The evaluator API (/api/evaluator/v1/): read-only pseudonymised case records, events and figures, as JSON.

The records are the evaluator extract's own rows (exports/evaluator_extract.py), built from the same column
declarations, pseudonyms and disclosure control, so an API record and an extract row of the same period agree
and link up by pseudonym. Only clients with recorded consent are read (disclosure.CONSENTED). Every call needs
a bearer token (tokens.py), is rate limited per token and is written to the audit log, refused or not.
"""
from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Any, Iterator, Mapping

from cryptography.fernet import InvalidToken
from flask import Blueprint, Flask, current_app, g, jsonify, request

from admin_app import audit, crypto
from admin_app.db import database
from admin_app.evaluator import tokens
from admin_app.evaluator.disclosure import OTHER, consented_match, generalise, small_groups
from admin_app.evaluator.figures import kept_report
from admin_app.evaluator.openapi import (ASSESSMENT_SHEET, CASE_SHEET, DEFAULT_LIMIT, EVENT_TYPES, MAX_LIMIT, PREFIX,
                                         document)
from admin_app.metrics.periods import Period, financial_year_of, london_today
from admin_app.metrics.records import both
from admin_app.security import client_network

SCOPES = {"cases": "cases:read", "events": "events:read", "figures": "figures:read"}
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)

bp = Blueprint("evaluator_api", __name__, url_prefix=PREFIX)


class BadRequest(ValueError):
    """A parameter the caller can correct; the message says how."""


# --- parameters -----------------------------------------------------------------------------------

def _arg(name: str) -> str | None:
    """A query parameter as given: None when left out; one given empty is a mistake worth saying."""
    if name not in request.args:
        return None
    raw = request.args.get(name, "").strip()
    if not raw:
        raise BadRequest(f"{name} is empty: leave it out or give a value.")
    return raw


LISTING_PARAMS = ("start", "end", "updated_since", "cursor", "limit")
FIGURES_PARAMS = ("start", "end")


def only(allowed: tuple[str, ...]) -> None:
    """A parameter this path does not take is refused, so a misspelt one (updated_sinse) is never silently ignored."""
    unknown = [name for name in request.args if name not in allowed]
    if unknown:
        raise BadRequest(f"Unknown parameter “{unknown[0][:40]}”: this path takes {', '.join(allowed)}.")


def _date_param(name: str) -> date | None:
    raw = _arg(name)
    if raw is None:
        return None
    try:
        day = date.fromisoformat(raw[:40])
    except ValueError:
        raise BadRequest(f"{name} must be a date as YYYY-MM-DD, not “{raw[:40]}”.") from None
    if not EARLIEST <= day <= LATEST:
        raise BadRequest(f"{name} must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}.")
    return day


def period_param(today: date) -> Period:
    """start and end (inclusive; both or neither); the current financial year when neither is given."""
    start, end = _date_param("start"), _date_param("end")
    if start is None and end is None:
        return financial_year_of(today)
    if start is None or end is None:
        raise BadRequest("Give both start and end, or neither (the current financial year).")
    if end < start:
        raise BadRequest("end is before start.")
    if (end - start).days > 10 * 366:
        raise BadRequest("A period can be at most 10 years long.")
    return Period(start, end)


def updated_since_param() -> datetime | None:
    raw = _arg("updated_since")
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw[:40].replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest("updated_since must be a date and time as ISO 8601, e.g. 2026-03-01T00:00:00Z.") from None
    if not EARLIEST <= moment.date() <= LATEST:
        raise BadRequest(f"updated_since must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}.")
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def limit_param() -> int:
    raw = _arg("limit") or str(DEFAULT_LIMIT)
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    return int(raw)


def cursor_param() -> str | None:
    """The last case file of the previous page, sealed (Fernet) so the cursor reveals nothing."""
    raw = _arg("cursor")
    if raw is None:
        return None
    try:
        return crypto.decrypt(raw[:1000])
    except (InvalidToken, ValueError, TypeError):
        raise BadRequest("cursor is not one this API gave out; start again without it.") from None


# --- records --------------------------------------------------------------------------------------

def _context(period: Period, match: Mapping[str, Any]):
    from exports.base import ExportContext

    settings = current_app.config["SETTINGS"]
    return ExportContext(period=period, match=match, generated_at=datetime.utcnow(),
                         generated_by=g.api_user.email, schedule=None, pseudonym_key=settings.pseudonym_key,
                         min_group=settings.evaluator_min_group, date_precision=settings.evaluator_date_precision)


def merged_codes(db: Any, ctx: Any, names: Any) -> dict[tuple[str, int], set]:
    """The coded values shown as "other" in the period, counted over every consented case file it touches
    (the extract's own count): the same on every page, whatever the cursor or updated_since."""
    from exports.evaluator_extract import _coded, _rows

    people: dict[tuple[str, int], dict[Any, set]] = {}
    for sheet, reference, cells in _rows(db, ctx, names):
        for index in _coded[sheet.name]:
            if cells[index] is not None:
                people.setdefault((sheet.name, index), {}).setdefault(cells[index], set()).add(reference)
    return {key: small_groups(values, ctx.min_group) for key, values in people.items()}


def controlled_row(sheet: Any, cells: list, merged: Mapping[tuple[str, int], set], precision: str) -> dict:
    out = {}
    for index, item in enumerate(sheet.items):
        value = cells[index]
        if item.kind == "date":
            value = generalise(value, precision)
        elif item.kind == "text" and value in merged.get((sheet.name, index), ()):
            value = OTHER
        out[item.key] = value
    return out


def page(kind: str, period: Period, updated_since: datetime | None, after: str | None,
         limit: int) -> tuple[list[dict], str | None]:
    """One page of case records or events: the rows of up to `limit` case files after the cursor, in reference
    order, and the cursor of the next page (None on the last)."""
    from exports.evaluator_extract import _rows
    from exports.pseudonym import Pseudonyms

    db = database()
    ctx = _context(period, consented_match())
    names = Pseudonyms(ctx.pseudonym_key)
    merged = merged_codes(db, ctx, names)
    narrowed = both(ctx.match, {"reference": {"$gt": after}} if after else None,
                    {"updated_at": {"$gte": updated_since}} if updated_since else None)
    rows: list[dict] = []
    seen: list[str] = []
    records: dict[str, dict] = {}
    stream: Iterator = _rows(db, replace(ctx, match=narrowed), names)
    try:
        for sheet, reference, cells in stream:
            if not seen or seen[-1] != reference:
                if len(seen) == limit:
                    return rows, crypto.encrypt(seen[-1])
                seen.append(reference)
            row = controlled_row(sheet, cells, merged, ctx.date_precision)
            if kind == "cases" and sheet.name == CASE_SHEET:
                records[reference] = {**row, "assessment": None}
                rows.append(records[reference])
            elif kind == "cases" and sheet.name == ASSESSMENT_SHEET:
                records[reference]["assessment"] = {k: v for k, v in row.items() if k != "client_pseudonym"}
            elif kind == "events" and sheet.name in EVENT_TYPES:
                rows.append({"type": EVENT_TYPES[sheet.name], **row})
    finally:
        stream.close()
    return rows, None


# --- requests -------------------------------------------------------------------------------------

def _error(status: int, message: str):
    response = jsonify({"error": message})
    response.status_code = status
    return response


def _scope_of(endpoint: str | None) -> str | None:
    return SCOPES.get((endpoint or "").rpartition(".")[2])


@bp.before_request
def authenticate():
    g.api_user = None
    scope = _scope_of(request.endpoint)
    if scope is None:  # the OpenAPI document and unknown paths
        return None
    header = request.headers.get("Authorization", "")
    text = header[7:].strip() if header[:7].lower() == "bearer " else None
    try:
        granted = tokens.check(text, current_app.config["SECRET_KEY"], scope, london_today())
    except tokens.TokenRefused as refused:
        g.api_refused = str(refused)
        return _error(refused.status, str(refused))
    g.api_user, g.api_token = granted.user, granted.token
    return None


@bp.after_request
def audit_call(response):
    """Every call, answered or refused, in the audit log: who (or which refusal), what was asked, the status."""
    if request.endpoint == "evaluator_api.openapi":
        return response
    user = g.get("api_user")
    token = g.get("api_token")
    asked = f"{request.method} {request.path}" + (f"?{request.query_string.decode()[:300]}" if request.query_string else "")
    what = f"{asked} → {response.status_code}" + (f" ({g.api_refused})" if g.get("api_refused") else "")
    audit.record("api", collection="api_tokens", record_id=token.pk if token else None,
                 summary=what + (f" with token {token}" if token else ""),
                 actor=user.email if user else "evaluator API (no valid token)")
    response.headers["Cache-Control"] = "no-store"
    return response


def _listing(kind: str):
    try:
        only(LISTING_PARAMS)
        period = period_param(london_today())
        updated_since, after, limit = updated_since_param(), cursor_param(), limit_param()
    except BadRequest as exc:
        return _error(400, str(exc))
    rows, next_cursor = page(kind, period, updated_since, after, limit)
    settings = current_app.config["SETTINGS"]
    return jsonify({"period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
                    "date_precision": settings.evaluator_date_precision, "min_group": settings.evaluator_min_group,
                    "data": rows, "next_cursor": next_cursor})


@bp.get("/cases")
def cases():
    return _listing("cases")


@bp.get("/events")
def events():
    return _listing("events")


@bp.get("/figures")
def figures():
    try:
        only(FIGURES_PARAMS)
        period = period_param(london_today())
    except BadRequest as exc:
        return _error(400, str(exc))
    settings = current_app.config["SETTINGS"]
    report, computed_at = kept_report(database(), period, london_today(), settings.evaluator_min_group,
                                      settings.evaluator_date_precision)
    return jsonify({**report, "computed_at": computed_at.isoformat() + "Z"})


@bp.get("/openapi.json")
def openapi():
    settings = current_app.config["SETTINGS"]
    return jsonify(document(settings.evaluator_date_precision, settings.evaluator_min_group))


def register(app: Flask) -> None:
    """Mount the API: no CSRF (no cookies are used; a bearer token is), a rate limit per token."""
    from admin_app.extensions import csrf

    csrf.exempt(bp)
    limiter = app.extensions["login_limiter"]
    limits = app.config["SETTINGS"].evaluator_api_limits
    limiter.limit(limits, key_func=_rate_key, error_message="Too many calls to the evaluator API.",
                  exempt_when=lambda: request.endpoint == "evaluator_api.openapi")(bp)
    app.register_blueprint(bp)


@bp.errorhandler(429)
def _too_many(exc):
    return _error(429, "Too many calls: wait a minute and try again.")


@bp.errorhandler(500)
def _failed(exc):
    return _error(500, "Something went wrong; it has been logged. Try again later.")


def _rate_key() -> str:
    """Calls are counted per token (the text after "Bearer"), and per address for calls without one."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return "token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()
    return f"address:{client_network()}"
