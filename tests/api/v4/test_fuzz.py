"""Hypothesis against every write route of ``/api/v4``, ``/api/v3`` and ``/api/v2`` (taken from
their route lists): bodies made of the legacy dialects' parameter names with values of any JSON type,
arrays, scalars, bytes that are not JSON, and odd path parameters, as an administrator app. No
answer may be a server error; a 200 carries a code of the reference's table (or only a message,
as EMQX 4's handlers answer some errors); 400 is only for a body that is not JSON. A bounded
number of examples per route (12; 300 in ``make test-slow``), the same on every run."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.api.v5.conftest import KEYS

CODES = {0, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116}
CODES |= {400, 404}  # EMQX 4's rule routes answer these in the body
PARAMETERS = [
    *("topic", "topics", "clientid", "client_id", "payload", "qos", "retain", "encoding", "properties"),
    *("user_properties", "return", "who", "as", "by", "reason", "at", "until", "desc", "app_id", "name"),
    *("secret", "status", "expired", "role", "username", "password", "tags", "old_pwd", "new_pwd"),
    *("key", "value", "interval", "action", "access", "node"),
]

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
objects = st.fixed_dictionaries({}, optional={name: values for name in PARAMETERS})
bodies = (
    objects.map(json.dumps)
    | st.lists(objects, max_size=3).map(json.dumps)
    | values.map(json.dumps)
    | st.binary(max_size=40)
)
path_values = st.sampled_from(["nobody", "admin", "tcp:default", "emqx", "a%2Fb%2F%23"]) | st.text(
    min_size=1, max_size=12
).map(lambda text: quote(text, safe=""))


def _routes(client: httpx.Client) -> list[dict[str, str]]:
    answer = client.get("/").json()
    return [route for route in answer.get("data", answer.get("result")) if route["method"] != "GET"]


def _check(client: httpx.Client, route: dict[str, str], examples: int) -> None:
    """``examples`` calls of one route; the first problem raised."""
    names = re.findall(r":(\w+)", route["path"])
    problems: list[str] = []

    @given(body=bodies, params=st.fixed_dictionaries({name: path_values for name in names}))
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],  # the first failing example is enough: no shrinking
        suppress_health_check=list(HealthCheck),
    )
    def call(body: str | bytes, params: dict[str, str]) -> None:
        path = route["path"]
        for name, value in params.items():
            path = path.replace(f":{name}", value)
        content = body.encode() if isinstance(body, str) else body
        try:
            reply = client.request(
                route["method"], path, content=content, headers={"content-type": "application/json"}
            )
        except httpx.HTTPError as exc:
            problems.append(f"{route['method']} {path} {content[:300]!r}: {exc!r}")
            return
        problem = _problem(reply, content)
        if problem:  # kept, not raised: a replay may find the broker's state changed
            problems.append(f"{route['method']} {path} {content[:300]!r}: {problem}")

    call()
    assert not problems, problems[0]


def _not_json(name: str) -> None:
    raise ValueError(name)


def _problem(reply: httpx.Response, content: bytes) -> str | None:
    if reply.status_code >= 500:
        return f"{reply.status_code} {reply.text[:200]}"
    if reply.status_code == 400:
        try:
            json.loads(content, parse_constant=_not_json)  # Infinity and NaN are not JSON
        except ValueError:
            return None if reply.text == "Bad Request" else f"400 {reply.text[:200]}"
        return "400 for JSON"
    if reply.status_code == 404:
        return None if reply.text == "Not found." else f"404 {reply.text[:200]}"
    if reply.status_code != 200:
        return f"{reply.status_code} {reply.text[:200]}"
    answer = reply.json()
    if answer.get("code") in CODES or set(answer) == {"message"}:
        return None
    return f"not a legacy answer: {answer}"


def _fuzz(node, prefix: str, examples: int) -> list[str]:
    failures: list[str] = []
    base = f"http://127.0.0.1:{node.mgmt_port}{prefix}"
    with httpx.Client(base_url=base, auth=KEYS["administrator"], timeout=10) as client:
        for route in _routes(client):
            try:
                _check(client, route, examples)
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{route['method']} {route['path']}: {exc}")
    return failures


@pytest.mark.parametrize(
    "examples",
    [
        pytest.param(12, id="short"),
        pytest.param(300, id="long", marks=[pytest.mark.slow, pytest.mark.timeout(1200)]),
    ],
)
def test_no_write_route_of_a_legacy_dialect_fails_on_bad_input(api_node, examples):
    """Per route: a short run in the default suite, a long one in ``make test-slow``."""
    failures = [
        failure
        for prefix in ("/api/v4", "/api/v3", "/api/v2")
        for failure in _fuzz(api_node, prefix, examples)
    ]
    assert not failures, "\n\n".join(failures)
