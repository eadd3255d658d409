"""Schemathesis against the OpenAPI document: every operation with generated parameters and
bodies (a bounded number per operation, the same on every run), as an administrator. No
answer may be a server error, and every documented answer must match its schema."""

from __future__ import annotations

import base64

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api.v5.conftest import KEYS

KEY, SECRET = KEYS["administrator"]
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()}
EXAMPLES = 10  # per operation


def test_no_server_errors_and_answers_match_their_schemas(api_node) -> None:
    base = f"http://127.0.0.1:{api_node.api_port}"
    schema = schemathesis.openapi.from_url(f"{base}/api-docs/swagger.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case) -> None:
            case.call_and_validate(
                base_url=f"{base}/api/v5",
                headers=AUTH,
                checks=[not_a_server_error, response_schema_conformance],
                timeout=10,
            )

        try:
            call()
        except (Exception, BaseExceptionGroup) as exc:  # every failing operation, then all at once
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert operations > 100
    assert not failures, "\n\n".join(failures)
