"""/api/v5 access: status, login tokens, dashboard users, API keys, roles and error bodies,
with real HTTP requests to the dashboard listener of a running broker."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest

from brookmq.app.server import BrookMQ
from brookmq.config import load_settings
from tests.transport.conftest import LOOPBACK_LISTENERS

PASSWORD = "n3w-Passw0rd"


@pytest.fixture
async def node(tmp_path):
    bootstrap = tmp_path / "keys.txt"
    bootstrap.write_text("boot-key:boot-secret-1:viewer\n\nbad line\nlost:after-the-bad-line\n")
    settings = load_settings(
        environ={
            **LOOPBACK_LISTENERS,
            "BROOKMQ_NODE__DATA_DIR": str(tmp_path / "data"),
            "BROOKMQ_API_KEY__BOOTSTRAP_FILE": str(bootstrap),
        }
    )
    app = BrookMQ(settings)
    await app.start()
    yield app
    await app.stop()


@pytest.fixture
async def http(node):
    assert node.dashboard is not None
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{node.dashboard.port}") as client:
        yield client


async def login(http: httpx.AsyncClient, username: str = "admin", password: str = "public") -> dict:
    reply = await http.post("/api/v5/login", json={"username": username, "password": password})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}


def basic(key: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


async def test_status_needs_no_credentials(http) -> None:
    text = await http.get("/status")
    assert text.status_code == 200 and text.text.startswith("Node brookmq@127.0.0.1 is started")
    assert text.headers["retry-after"] == "15"
    data = (await http.get("/api/v5/status", params={"format": "json"})).json()
    assert data == {"node_name": "brookmq@127.0.0.1", "broker_status": "started", "app_status": "running"}


async def test_login_gives_a_token_and_refuses_bad_passwords_then_locks(http) -> None:
    reply = await http.post("/api/v5/login", json={"username": "admin", "password": "public"})
    body = reply.json()
    assert body["role"] == "administrator" and body["license"] == {"edition": "opensource"}
    assert (
        await http.get("/api/v5/users", headers={"Authorization": f"Bearer {body['token']}"})
    ).status_code == 200
    for _ in range(5):
        wrong = await http.post("/api/v5/login", json={"username": "admin", "password": "nope"})
        assert wrong.status_code == 401 and wrong.json()["code"] == "BAD_USERNAME_OR_PWD"
    locked = await http.post("/api/v5/login", json={"username": "admin", "password": "public"})
    assert locked.status_code == 401  # five failures: locked even with the right password


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "AUTHORIZATION_HEADER_ERROR"),
        ({"Authorization": "Digest abc"}, "AUTHORIZATION_HEADER_ERROR"),
        ({"Authorization": "Basic !!!"}, "AUTHORIZATION_HEADER_ERROR"),
        ({"Authorization": "Bearer not-a-token"}, "BAD_TOKEN"),
        (basic("nokey", "nosecret"), "BAD_API_KEY_OR_SECRET"),
    ],
)
async def test_bad_credentials_get_401_with_their_code(http, headers, code) -> None:
    reply = await http.get("/api/v5/error_codes", headers=headers)
    assert reply.status_code == 401 and reply.json()["code"] == code
    assert reply.headers["www-authenticate"] == 'Basic Realm="emqx-dashboard"'


async def test_users_are_managed_and_password_changes_revoke_tokens(http) -> None:
    admin = await login(http)
    made = await http.post(
        "/api/v5/users", headers=admin, json={"username": "ops", "password": PASSWORD, "role": "viewer"}
    )
    assert made.status_code == 200
    assert made.json() == {"username": "ops", "role": "viewer", "description": "", "backend": "local"}
    weak = await http.post("/api/v5/users", headers=admin, json={"username": "x", "password": "short"})
    assert (
        weak.status_code == 400
        and weak.json()["code"] == "BAD_REQUEST"
        and "password" in weak.json()["message"]
    )
    again = await http.post("/api/v5/users", headers=admin, json={"username": "ops", "password": PASSWORD})
    assert again.status_code == 400
    ops = await login(http, "ops", PASSWORD)
    assert (await http.get("/api/v5/users", headers=ops)).status_code == 200  # viewers may read
    denied = await http.post("/api/v5/users", headers=ops, json={"username": "y", "password": PASSWORD})
    assert denied.status_code == 403 and denied.json()["code"] == "UNAUTHORIZED_ROLE"
    changed = await http.post(
        "/api/v5/users/ops/change_pwd", headers=ops, json={"old_pwd": PASSWORD, "new_pwd": PASSWORD + "!"}
    )
    assert changed.status_code == 204  # a viewer may change its own password
    stale = await http.get("/api/v5/users", headers=ops)
    assert stale.status_code == 401 and stale.json()["code"] == "BAD_TOKEN"  # revoked by the change
    wrong_old = await http.post(
        "/api/v5/users/admin/change_pwd", headers=admin, json={"old_pwd": "nope", "new_pwd": PASSWORD}
    )
    assert wrong_old.json()["code"] == "ERROR_PWD_NOT_MATCH"
    assert (await http.delete("/api/v5/users/admin", headers=admin)).json()["code"] == "NOT_ALLOWED"
    missing = await http.put("/api/v5/users/ghost", headers=admin, json={"description": "x"})
    assert missing.status_code == 404 and missing.json()["code"] == "USER_NOT_FOUND"
    assert (await http.delete("/api/v5/users/ops", headers=admin)).status_code == 204


async def test_logout_revokes_the_token(http) -> None:
    admin = await login(http)
    mismatch = await http.post("/api/v5/logout", headers=admin, json={"username": "someone"})
    assert mismatch.status_code == 401 and mismatch.json()["code"] == "WRONG_TOKEN_OR_USERNAME"
    assert (await http.post("/api/v5/logout", headers=admin, json={"username": "admin"})).status_code == 204
    assert (await http.get("/api/v5/users", headers=admin)).json()["code"] == "BAD_TOKEN"


async def test_api_keys_show_their_secret_once_and_follow_their_role(http, node) -> None:
    admin = await login(http)
    made = await http.post(
        "/api/v5/api_key", headers=admin, json={"name": "ci", "desc": "CI", "role": "viewer"}
    )
    assert made.status_code == 200
    key = made.json()
    assert key["role"] == "viewer" and key["expired_at"] == "infinity" and len(key["api_key"]) == 16
    secret = key["api_secret"]
    stored = node.store.collection("api_keys").get("ci")
    assert secret not in str(stored)  # kept salted and hashed only
    listed = (await http.get("/api/v5/api_key", headers=admin)).json()
    assert all("api_secret" not in k for k in listed)
    viewer = basic(key["api_key"], secret)
    assert (await http.get("/api/v5/error_codes", headers=viewer)).status_code == 200
    not_here = await http.get("/api/v5/users", headers=viewer)
    assert not_here.status_code == 401 and not_here.json()["code"] == "API_KEY_NOT_ALLOW"
    assert (await http.get("/api/v5/api_key", headers=viewer)).json()["code"] == "API_KEY_NOT_ALLOW"
    wrong = await http.get("/api/v5/error_codes", headers=basic(key["api_key"], "wrong"))
    assert wrong.status_code == 401 and wrong.json()["code"] == "BAD_API_KEY_OR_SECRET"
    disabled = await http.put("/api/v5/api_key/ci", headers=admin, json={"enable": False})
    assert disabled.status_code == 200 and disabled.json()["enable"] is False
    assert disabled.json()["desc"] == "CI"  # omitted fields stay
    refused = await http.get("/api/v5/error_codes", headers=viewer)
    assert refused.status_code == 401 and refused.json()["code"] == "BAD_API_KEY_OR_SECRET"
    bad_name = await http.post("/api/v5/api_key", headers=admin, json={"name": " spaced"})
    assert bad_name.status_code == 400 and "name" in bad_name.json()["message"]
    assert (await http.post("/api/v5/api_key", headers=admin, json={"name": "ci"})).status_code == 400
    assert (await http.delete("/api/v5/api_key/ci", headers=admin)).status_code == 204
    assert (await http.get("/api/v5/api_key/ci", headers=admin)).json() == {
        "code": "NOT_FOUND",
        "message": "Name NOT FOUND",
    }


async def test_the_bootstrap_file_loads_until_a_bad_line(http) -> None:
    admin = await login(http)
    names = [k["name"] for k in (await http.get("/api/v5/api_key", headers=admin)).json()]
    assert len(names) == 1 and names[0].startswith("from_bootstrap_file_")
    viewer = basic("boot-key", "boot-secret-1")
    assert (await http.get("/api/v5/api_key", headers=viewer)).json()["code"] == "API_KEY_NOT_ALLOW"
    assert (await http.get("/api/v5/error_codes/NOT_FOUND", headers=viewer)).json()["name"] == "NOT_FOUND"
    lost = basic("lost", "after-the-bad-line")  # after the malformed line: not loaded
    assert (await http.get("/api/v5/error_codes", headers=lost)).status_code == 401


async def test_error_bodies(http) -> None:
    admin = await login(http)
    missing = await http.get("/api/v5/nothing-here", headers=admin)
    assert missing.status_code == 404 and missing.json() == {
        "code": "NOT_FOUND",
        "message": "Request Path Not Found",
    }
    wrong_method = await http.patch("/api/v5/users", headers=admin)
    assert wrong_method.status_code == 405
    garbled = await http.post(
        "/api/v5/users", headers={**admin, "content-type": "application/json"}, content=b"{not json"
    )
    assert garbled.status_code == 400 and garbled.json()["message"] == "Invalid json message received"
    text = await http.post("/api/v5/users", headers={**admin, "content-type": "text/plain"}, content=b"x")
    assert text.status_code == 415 and text.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    unknown = await http.post(
        "/api/v5/users", headers=admin, json={"username": "a", "password": PASSWORD, "x": 1}
    )
    assert unknown.status_code == 400 and unknown.json()["message"].startswith("x:")


async def test_openapi_document_and_its_security_schemes(http) -> None:
    doc = (await http.get("/api-docs/swagger.json")).json()
    assert doc["openapi"].startswith("3.") and doc["servers"] == [{"url": "/api/v5"}]
    assert set(doc["components"]["securitySchemes"]) == {"basicAuth", "bearerAuth"}
    assert doc["paths"]["/login"]["post"]["security"] == []
    assert all(path.startswith("/") and not path.startswith("/api/v5") for path in doc["paths"])
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            assert operation.get("tags"), f"{method} {path} has no tag"
    redirect = await http.get("/api-docs", follow_redirects=False)
    assert redirect.status_code == 301 and redirect.headers["location"] == "/api-docs/index.html"
    ui = await http.get("/api-docs/index.html")
    assert ui.status_code == 200 and "/api-docs/static/swagger-ui-bundle.js" in ui.text
    assert "/api-docs/swagger.json" in ui.text and "cdn" not in ui.text.lower()
    script = await http.get("/api-docs/static/swagger-ui-bundle.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text


async def test_swagger_can_be_turned_off(tmp_path) -> None:
    settings = load_settings(
        environ={
            **LOOPBACK_LISTENERS,
            "BROOKMQ_NODE__DATA_DIR": str(tmp_path),
            "BROOKMQ_DASHBOARD__SWAGGER_SUPPORT": "false",
        }
    )
    app = BrookMQ(settings)
    await app.start()
    try:
        assert app.dashboard is not None
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.dashboard.port}") as client:
            for path in ("/api-docs", "/api-docs/index.html", "/api-docs/swagger.json"):
                assert (await client.get(path)).status_code == 404, path
            assert (await client.get("/status")).status_code == 200
    finally:
        await app.stop()


async def test_the_default_password_is_warned_about(tmp_path, caplog) -> None:
    settings = load_settings(environ={**LOOPBACK_LISTENERS, "BROOKMQ_NODE__DATA_DIR": str(tmp_path)})
    with caplog.at_level(logging.WARNING, logger="brookmq"):
        app = BrookMQ(settings)
        await app.start()
        await app.stop()
    assert any("default password 'public'" in r.getMessage() for r in caplog.records)
    assert not any("public" in r.getMessage() for r in caplog.records if r.levelno < logging.WARNING)
