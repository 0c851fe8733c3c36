"""The OpenAPI document checked against the running app by a property-based API tester.

Schemathesis loads ``/api/v1/openapi.json`` from the Flask app (WSGI, no server), generates
requests for every documented operation from the document's own parameter and body schemas,
sends them with a supervisor's API token, and checks each answer: no 5xx, a documented status
code and content type, a body that conforms to the documented schema. Every operation also gets
requests with real ids, so the success answers (not only the 404s) are checked against their
schemas. Examples per operation are capped to keep the run under a minute.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from qa_platform.services.auth import create_token
from scoring import reports
from scoring import services as scoring
from tests.factories import evaluation_on_new_call, publish_scored, tone_wav
from web.api_spec import OPENAPI

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = {"POST /calls": 10, "GET /reports/{snapshot_id}/download": 12}  # slow: ingest, PDF
DEFAULT_EXAMPLES = 100
AGENT_EXAMPLES = 20


def _real_ids(platform: Any, world: Any) -> dict[str, int]:
    """A published, appealed evaluation and a published report, for the success answers."""
    ids, u = world.ids, platform.uow
    eid = evaluation_on_new_call(platform, ids["agent"], ids["insp"], ids["sup"], date(2026, 1, 6))
    publish_scored(platform, eid, ids["insp"], ids["sup"])
    scoring.file_appeal(u(), eid, ids["agent"], "理由", ["identity_check"])
    snap = reports.compute_report(u(), "daily", date(2026, 1, 6))
    reports.publish_report(u(), snap["id"], ids["sup"])
    return {"call_id": world.call_id, "evaluation_id": eid, "snapshot_id": snap["id"]}


def _fuzz(op: Any, headers: dict[str, str], statuses: set[int], examples: int) -> None:
    """Generated requests for one operation, each answer checked; their statuses noted."""

    @settings(
        max_examples=min(examples, EXAMPLES.get(op.label, examples)),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy())
    def check(case: Any) -> None:
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        statuses.add(response.status_code)

    check()


def test_every_documented_operation_conforms(app, platform, world, tmp_path):
    token = create_token(platform, "sup", "schemathesis", scopes=("read", "write"))
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    real = _real_ids(platform, world)
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = {f"{m.upper()} {p}" for p, ops in OPENAPI["paths"].items() for m in ops}
    documented.discard("GET /openapi.json")  # schemathesis leaves out the document it loaded
    assert {op.label for op in operations} == documented
    answered: dict[str, set[int]] = {}

    for op in operations:
        statuses = answered.setdefault(op.label, set())
        _fuzz(op, headers, statuses, DEFAULT_EXAMPLES)
        names = {p.name for p in op.path_parameters}
        if names:  # the same operation on objects that exist: its success answer is checked
            case = op.Case(path_parameters={n: real[n] for n in names})
            statuses.add(case.call_and_validate(headers=headers, checks=CHECKS).status_code)
        if op.label == "POST /calls":  # a real recording: the created answer is checked
            wav = tone_wav(tmp_path / "fuzz-upload.wav", 3.0, 440.0).read_bytes()
            body = {"file": wav, "agent": "A002", "team": "二组"}
            case = op.Case(body=body, media_type="multipart/form-data")
            statuses.add(case.call_and_validate(headers=headers, checks=CHECKS).status_code)

    succeeded = {label for label, codes in answered.items() if codes & {200, 201}}
    assert succeeded == documented, sorted(documented - succeeded)


def test_an_agent_with_a_read_token_gets_documented_answers_only(app, platform, world):
    """The denials (403 for a read token's POST, 404 outside the agent's own calls) and the
    agent's reduced views are documented answers too."""
    token = create_token(platform, "agent", "schemathesis-agent", scopes=("read",))
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    real = _real_ids(platform, world)
    answered: set[int] = set()
    for result in schema.get_all_operations():
        op = result.ok()
        _fuzz(op, headers, answered, AGENT_EXAMPLES)
        names = {p.name for p in op.path_parameters}
        if names:
            case = op.Case(path_parameters={n: real[n] for n in names})
            answered.add(case.call_and_validate(headers=headers, checks=CHECKS).status_code)
    assert {200, 403, 404} <= answered
