"""Every operation of the OpenAPI document, as each role and with each bad credential: the
status is what the role allows, and nothing answers 500."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api.v5.conftest import KEYS

NODE = "brookmq@127.0.0.1"
PARAMS = {"node": NODE, "as_": "clientid", "code": "BAD_REQUEST", "username": "nobody"}
KEYS_NOT_ALLOWED = ("/api_key", "/users", "/logout")
OPEN = {("GET", "/status"), ("POST", "/login"), ("GET", "/prometheus/stats")}


def operations(api_node) -> list[tuple[str, str]]:
    doc = httpx.get(f"http://127.0.0.1:{api_node.api_port}/api-docs/swagger.json").json()
    out = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert (method.upper(), path) in OPEN or op.get("security") != [], f"{method} {path} is open"
            out.append(
                (method.upper(), re.sub(r"\{(\w+)\}", lambda m: PARAMS.get(m.group(1), "nobody"), path))
            )
    return out


def call(api_node, method: str, path: str, headers: dict | None = None, auth=None) -> httpx.Response:
    body = {} if method in ("POST", "PUT") else None
    url = f"http://127.0.0.1:{api_node.api_port}/api/v5{path}"
    return httpx.request(method, url, json=body, headers=headers, auth=auth, timeout=10)


def test_every_route_needs_credentials(api_node) -> None:
    for method, path in operations(api_node):
        for headers, auth in (
            ({}, None),
            ({"Authorization": "Bearer not-a-token"}, None),
            ({}, ("admin-key", "wrong-secret")),
            ({"Authorization": "Basic %%%"}, None),
        ):
            reply = call(api_node, method, path, headers, auth)
            assert reply.status_code != 500, (method, path, reply.text)
            if (method, path) in OPEN:
                assert reply.status_code not in (401, 403), (method, path)
            else:
                assert reply.status_code == 401, (method, path, headers, auth, reply.status_code)
                assert reply.json()["code"] in (
                    "AUTHORIZATION_HEADER_ERROR",
                    "BAD_TOKEN",
                    "BAD_API_KEY_OR_SECRET",
                    "API_KEY_NOT_ALLOW",
                )


def allowed(role: str, method: str, path: str) -> bool:
    if role == "administrator":
        return True
    if role == "viewer":
        return method == "GET"
    return method == "POST" and path in ("/publish", "/publish/bulk")


@pytest.mark.parametrize("role", ["viewer", "publisher", "administrator"])
def test_every_route_as_each_role(api_node, role) -> None:
    for method, path in operations(api_node):
        if (method, path) in OPEN:
            continue
        reply = call(api_node, method, path, auth=KEYS[role])
        assert reply.status_code != 500, (method, path, reply.text)
        if any(path == s or path.startswith(s + "/") for s in KEYS_NOT_ALLOWED):
            assert reply.status_code == 401 and reply.json()["code"] == "API_KEY_NOT_ALLOW", (method, path)
        elif allowed(role, method, path):
            assert reply.status_code not in (401, 403), (role, method, path, reply.text)
        else:
            assert reply.status_code == 403 and reply.json()["code"] == "UNAUTHORIZED_ROLE", (
                role,
                method,
                path,
            )


def test_every_route_with_a_login_token(api_node) -> None:
    base = f"http://127.0.0.1:{api_node.api_port}/api/v5"
    token = httpx.post(f"{base}/login", json={"username": "admin", "password": "public"}).json()["token"]
    for method, path in operations(api_node):
        if path == "/logout" or (method, path) in OPEN:
            continue
        reply = call(api_node, method, path, {"Authorization": f"Bearer {token}"})
        assert reply.status_code not in (401, 403, 500), (method, path, reply.status_code, reply.text)
