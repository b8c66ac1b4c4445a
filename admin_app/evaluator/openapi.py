"""The evaluator API's OpenAPI 3.0 document, generated from the extract's column declarations (the same ones its
data dictionary is written from), so the API, its schema and the workbook cannot drift apart."""
from __future__ import annotations

from typing import Any

from admin_app.evaluator.disclosure import OTHER
from admin_app.evaluator.figures import FIGURES
from admin_app.models.api_tokens import API_SCOPES
from exports.evaluator_extract import CASE_SHEETS

PREFIX = "/api/evaluator/v1"
DEFAULT_LIMIT, MAX_LIMIT = 50, 200
#: The case record's parts and the event types, by the extract's sheet names (as its sheets declare them).
API_OF = {sheet.name: sheet.api for sheet in CASE_SHEETS if sheet.api}
CASE_SHEET = next(name for name, api in API_OF.items() if api == "cases")
ASSESSMENT_SHEET = next(name for name, api in API_OF.items() if api == "cases.assessment")
EVENT_TYPES = {name: api for name, api in API_OF.items() if not api.startswith("cases")}

DATE_PATTERNS = {"month": r"^\d{4}-\d{2}$", "quarter": r"^\d{4}-Q[1-4]$", "year": r"^\d{4}$"}
PSEUDONYM_PATTERN = r"^[CEJ]-[0-9a-f]{16}$"


def item_schema(item: Any, precision: str) -> dict[str, Any]:
    """The JSON schema of one extract column: every value may be null (not recorded, or not applicable)."""
    description = item.description or item.heading
    if item.kind == "date":
        schema = {"type": "string", "pattern": DATE_PATTERNS[precision],
                  "description": f"{description} (generalised to the {precision})"}
    elif item.kind == "int":
        schema = {"type": "integer", "description": description}
    elif item.kind == "number":
        schema = {"type": "number", "description": description}
    elif item.kind == "bool":
        schema = {"type": "boolean", "description": description}
    elif item.kind == "pseudonym":
        schema = {"type": "string", "pattern": PSEUDONYM_PATTERN, "description": description}
    else:
        schema = {"type": "string", "description": f"{description}. “{OTHER}”: a value held by too few people"}
        if item.codes:
            schema["enum"] = [*item.codes, OTHER] if OTHER not in item.codes else list(item.codes)
    return {**schema, "nullable": True, "x-source": item.source}


def sheet_schema(sheet: Any, precision: str, skip: tuple[str, ...] = (), **extra: dict) -> dict[str, Any]:
    properties = {item.key: item_schema(item, precision) for item in sheet.items if item.key not in skip}
    properties.update(extra)
    return {"type": "object", "description": sheet.description, "properties": properties,
            "required": sorted(properties), "additionalProperties": False}


def document(precision: str, min_group: int) -> dict[str, Any]:
    """The document for the deployment's disclosure settings (EVALUATOR_DATE_PRECISION, EVALUATOR_MIN_GROUP)."""
    sheets = {sheet.name: sheet for sheet in CASE_SHEETS}
    assessment = sheet_schema(sheets[ASSESSMENT_SHEET], precision, skip=("client_pseudonym",))
    assessment["nullable"] = True
    schemas: dict[str, Any] = {
        "CaseRecord": sheet_schema(sheets[CASE_SHEET], precision, assessment={"$ref": "#/components/schemas/Assessment"}),
        "Assessment": assessment,
        "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
        "Period": {"type": "object", "properties": {"start": {"type": "string", "format": "date"},
                                                    "end": {"type": "string", "format": "date"}},
                   "required": ["start", "end"], "additionalProperties": False},
        "Figures": _figures_schema(),
    }
    events = []
    for name, kind in EVENT_TYPES.items():
        title = f"{kind.title().replace('_', '')}Event"
        schemas[title] = sheet_schema(sheets[name], precision, type={"type": "string", "enum": [kind]})
        events.append({"$ref": f"#/components/schemas/{title}"})
    schemas["Event"] = {"oneOf": events, "discriminator": {"propertyName": "type", "mapping": {
        kind: f"#/components/schemas/{kind.title().replace('_', '')}Event" for kind in EVENT_TYPES.values()}}}
    for name, item in (("CasePage", "CaseRecord"), ("EventPage", "Event")):
        schemas[name] = {"type": "object", "additionalProperties": False,
                         "required": ["period", "date_precision", "min_group", "data", "next_cursor"],
                         "properties": {"period": {"$ref": "#/components/schemas/Period"},
                                        "date_precision": {"type": "string", "enum": ["month", "quarter", "year"]},
                                        "min_group": {"type": "integer"},
                                        "data": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
                                        "next_cursor": {"type": "string", "nullable": True,
                                                        "description": "Give it as `cursor` for the next page; "
                                                                       "null on the last page"}}}
    listing = [_param("start", {"type": "string", "format": "date"}, "First day of the period (with end); "
                      "default: the current financial year"),
               _param("end", {"type": "string", "format": "date"}, "Last day of the period, inclusive"),
               _param("updated_since", {"type": "string", "format": "date-time"},
                      "Only case files changed at or after this time (UTC unless an offset is given)"),
               _param("cursor", {"type": "string"}, "next_cursor of the previous page"),
               _param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                      "Case files per page")]
    return {
        "openapi": "3.0.3",
        "info": {"title": "Enterprise for Employment evaluator API", "version": "1.0.0",
                 "description": "Read-only, pseudonymised case progress for the university evaluation: the same "
                                "clients, pseudonyms, columns and disclosure control as the evaluator extract. "
                                f"Dates are generalised to the {precision}; coded values held by fewer than "
                                f"{min_group} people read “{OTHER}”. Clients without recorded "
                                "consent are absent. Pages hold the records of up to `limit` case files."},
        "servers": [{"url": PREFIX}],
        "security": [{"bearerToken": []}],
        "paths": {
            "/cases": {"get": _operation("listCases", "Case records: referral, age band, consent, status at the "
                                         "period end, and the initial assessment", "cases:read", listing, "CasePage")},
            "/events": {"get": _operation("listEvents", "Events in the period: contacts, employer contacts, "
                                          "outcomes and status changes", "events:read", listing, "EventPage")},
            "/figures": {"get": _operation("getFigures", "The evaluator dashboard's figures for the period",
                                           "figures:read", listing[:2], "Figures")},
        },
        "components": {
            "securitySchemes": {"bearerToken": {"type": "http", "scheme": "bearer", "description":
                                "A token an administrator issued; scopes: " + "; ".join(f"{k} ({v})" for k, v in API_SCOPES)}},
            "schemas": schemas,
        },
    }


def _param(name: str, schema: dict, description: str) -> dict[str, Any]:
    if schema.get("type") == "string":
        schema = {**schema, "minLength": 1}
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _operation(operation_id: str, summary: str, scope: str, parameters: list, schema: str) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {"operationId": operation_id, "summary": summary, "description": f"Needs a token with the {scope} scope.",
            "parameters": parameters,
            "responses": {"200": {"description": "A page", "content": {"application/json": {
                              "schema": {"$ref": f"#/components/schemas/{schema}"}}}},
                          "400": {"description": "A parameter is not valid; the message says how", **error},
                          "401": {"description": "No token, or one that is unknown, revoked or expired", **error},
                          "403": {"description": "The token lacks the scope, or its user the permission", **error},
                          "429": {"description": "Too many calls for this token", **error}}}


def _figures_schema() -> dict[str, Any]:
    number = {"type": "number", "nullable": True}
    figures = {"type": "object", "properties": {f.key: {**number, "description": f.label} for f in FIGURES}}
    return {"type": "object", "description": "As on the evaluator dashboard: a withheld figure is null and its key "
                                             "is listed in `withheld`",
            "required": ["period", "as_of", "computed_at", "min_group", "date_precision", "service", "breakdowns",
                         "journeys"],
            "properties": {"period": {"type": "object"}, "as_of": {"type": "string", "format": "date"},
                           "computed_at": {"type": "string", "format": "date-time",
                                           "description": "When the figures were computed (never over a minute ago)"},
                           "min_group": {"type": "integer"}, "date_precision": {"type": "string"},
                           "service": figures, "fidelity": {"type": "array", "items": {"type": "object"}},
                           "over_time": {"type": "array", "items": {"type": "object"}},
                           "breakdowns": {"type": "object"}, "journeys": {"type": "array", "items": {"type": "object"}}}}
