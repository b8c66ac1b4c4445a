"""The evaluator API against its own OpenAPI document: schemathesis generates calls from the document and checks
every answer (status codes, content types, response schemas, no server error) over the demo data."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from admin_app.evaluator.openapi import document
from tests.test_evaluator_api import ALL_SCOPES, issue

OPENAPI = "/api/evaluator/v1/openapi.json"


@pytest.fixture
def seeded(app, users):
    from admin_app.cli import seed_demo_data

    with app.app_context():
        seed_demo_data(clients=40)
    return app


@pytest.fixture
def token(seeded, users):
    return issue(seeded, users["evaluator"], ALL_SCOPES)


# The document depends only on the disclosure settings, so it is loaded once, at collection, for the defaults
# the test app uses; each generated call then goes to a fresh app holding the demo data.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]
schema = schemathesis.openapi.from_dict(document("month", 5))


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_openapi_document(case, seeded, token):
    # The one rule OpenAPI 3.0 cannot state is between parameters (start and end together, end not before
    # start): such a call gets a 400 with its reason, so "schema-valid data is accepted" is not among the checks.
    # Nor is "ignored auth", whose probe goes over HTTP rather than to the app in process: test_evaluator_api.py
    # checks that every call without a valid token, scope or permission is refused.
    case.call_and_validate(base_url="http://localhost/api/evaluator/v1", app=seeded,
                           headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


def test_the_served_document_is_the_one_checked(seeded):
    assert seeded.test_client().get(OPENAPI).json == document("month", 5)


def test_the_document_is_built_from_the_extracts_declarations(seeded):
    from exports.evaluator_extract import CASE_SHEETS

    document = seeded.test_client().get(OPENAPI).json
    case = document["components"]["schemas"]["CaseRecord"]["properties"]
    referrals = next(s for s in CASE_SHEETS if s.name == "Referrals")
    assert set(case) == {item.key for item in referrals.items} | {"assessment"}
    assert case["cohort"]["enum"] == ["at_risk", "convicted", "other"]
    assert case["client_pseudonym"]["x-source"] == "clients.reference"
    names = {name for schema in document["components"]["schemas"].values() for name in schema.get("properties", {})}
    assert not names & {"first_name", "last_name", "date_of_birth", "reference", "address", "postcode", "phone",
                        "email", "note", "notes", "worker"}


def test_every_column_of_the_data_dictionary_is_where_it_says_in_the_api_document(seeded):
    from exports.evaluator_extract import api_field, dictionary_rows

    schemas = seeded.test_client().get(OPENAPI).json["components"]["schemas"]
    in_api = 0
    for sheet_name, item in dictionary_rows():
        where = api_field(sheet_name, item)
        if where == "not in the API":
            assert sheet_name == "General employer contacts"
            continue
        part, key = where.split(": ")
        schema = {"cases": "CaseRecord", "cases.assessment": "Assessment"}.get(part) or next(
            name for name, s in schemas.items() if part[len("events ("):-1] in s.get("properties", {}).get(
                "type", {}).get("enum", []))
        assert key in schemas[schema]["properties"] or (schema == "Assessment" and key == "client_pseudonym")
        in_api += 1
    assert in_api > 40
