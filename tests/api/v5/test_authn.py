"""/api/v5/authentication: authenticators, their counters, and built-in database users that
paho clients then log in with."""

from __future__ import annotations

import jwt
import paho.mqtt.client as mqtt

from tests.api.v5.conftest import restart
from tests.interop.test_access_paho import connack

NODE_CONFIG = """
authentication = [{mechanism = password_based, backend = built_in_database}]
allow_anonymous = false
"""
DB = "/authentication/password_based:built_in_database"


def test_authenticators_are_listed(api) -> None:
    listed = api.get("/authentication").json()
    assert [a["id"] for a in listed] == ["password_based:built_in_database"]
    assert listed[0]["user_id_type"] == "username" and listed[0]["enable"] is True
    assert listed[0]["password_hash_algorithm"]["name"] == "sha256"
    assert api.get("/authentication/password_based%3Abuilt_in_database").json() == listed[0]
    assert api.get("/authentication/jwt").status_code == 404
    assert api.get("/authentication/jwt/users").status_code == 404


def test_users_lifecycle_and_logins(api, api_node, prefix) -> None:
    user = prefix + "dev"
    created = api.post(f"{DB}/users", json={"user_id": user, "password": "s3cret"})
    assert created.status_code == 201 and created.json() == {"user_id": user, "is_superuser": False}
    duplicate = api.post(f"{DB}/users", json={"user_id": user, "password": "x"})
    assert duplicate.status_code == 409 and duplicate.json() == {
        "code": "ALREADY_EXISTS",
        "message": "User already exists",
    }
    for bad in (
        {"user_id": "", "password": "x"},
        {"user_id": "a"},
        {"user_id": "a", "password": "x", "clientid": "c"},
    ):
        assert api.post(f"{DB}/users", json=bad).status_code == 400, bad
    before = api.get(f"{DB}/status").json()["metrics"]
    assert connack(api_node.port, mqtt.MQTTv5, prefix + "c1", user, "s3cret") == 0
    assert connack(api_node.port, mqtt.MQTTv5, prefix + "c2", user, "wrong") == 0x86
    after = api.get(f"{DB}/status").json()
    assert after["status"] == "connected"
    assert (
        after["metrics"]["success"] == before["success"] + 1
        and after["metrics"]["failed"] == before["failed"] + 1
    )

    assert api.get(f"{DB}/users/{user}").json() == {"user_id": user, "is_superuser": False}
    changed = api.put(f"{DB}/users/{user}", json={"password": "n3w", "is_superuser": True})
    assert changed.json() == {"user_id": user, "is_superuser": True}
    assert connack(api_node.port, mqtt.MQTTv5, prefix + "c3", user, "s3cret") == 0x86
    assert connack(api_node.port, mqtt.MQTTv5, prefix + "c4", user, "n3w") == 0
    assert api.put(f"{DB}/users/{user}", json={}).status_code == 400
    assert api.put(f"{DB}/users/{user}", json={"user_id": "other"}).status_code == 400
    assert "password" not in str(api.get(f"{DB}/users", params={"like_user_id": prefix}).json())
    assert api.delete(f"{DB}/users/{user}").status_code == 204
    missing = api.get(f"{DB}/users/{user}")
    assert missing.status_code == 404 and missing.json() == {"code": "NOT_FOUND", "message": "User not found"}
    assert api.delete(f"{DB}/users/{user}").status_code == 404


def test_users_page_and_filter(api, prefix) -> None:
    for i in range(5):
        api.post(f"{DB}/users", json={"user_id": f"{prefix}{i}", "password": "p", "is_superuser": i == 0})
    fuzzy = api.get(f"{DB}/users", params={"like_user_id": prefix, "limit": 2}).json()
    assert len(fuzzy["data"]) == 2 and fuzzy["meta"]["hasnext"] is True and "count" not in fuzzy["meta"]
    supers = api.get(f"{DB}/users", params={"is_superuser": True}).json()
    assert {"user_id": f"{prefix}0", "is_superuser": True} in supers["data"] and supers["meta"]["count"] >= 1
    pages = []
    for page in (1, 2, 3):
        pages += api.get(f"{DB}/users", params={"like_user_id": prefix, "limit": 2, "page": page}).json()[
            "data"
        ]
    assert [u["user_id"] for u in pages] == [f"{prefix}{i}" for i in range(5)]


def test_authenticators_created_moved_changed_and_removed(api, api_node, prefix) -> None:
    secret = "a-jwt-secret-of-32-bytes-" + prefix
    token = jwt.encode({"username": prefix + "j"}, secret, algorithm="HS256")
    assert connack(api_node.port, mqtt.MQTTv5, prefix + "j1", prefix + "j", token) == 0x87  # nobody knows it

    created = api.post(
        "/authentication", json={"mechanism": "jwt", "algorithm": "hmac-based", "secret": secret}
    )
    assert created.status_code == 200 and created.json()["id"] == "jwt"
    assert created.json()["secret"] == "******"
    assert secret not in api.get("/authentication").text
    assert connack(api_node.port, mqtt.MQTTv5, prefix + "j2", prefix + "j", token) == 0
    duplicate = api.post("/authentication", json={"mechanism": "jwt", "secret": "x"})
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "ALREADY_EXISTS"
    bad = api.post("/authentication", json={"mechanism": "password_based", "backend": "http", "url": "nope"})
    assert (
        bad.status_code == 400
        and bad.json()["code"] == "UPDATE_FAILED"
        and "authentication.2.http.url" in bad.text
    )

    assert api.put("/authentication/jwt/position/front").status_code == 204
    assert [a["id"] for a in api.get("/authentication").json()] == ["jwt", DB.split("/")[-1]]
    assert api.put("/authentication/jwt/position/after:nope").status_code == 404
    assert api.put("/authentication/jwt/position/sideways").status_code == 400
    order = [{"id": DB.split("/")[-1]}, {"id": "jwt"}]
    assert api.put("/authentication/order", json=order).status_code == 204
    assert [a["id"] for a in api.get("/authentication").json()] == ["password_based:built_in_database", "jwt"]
    assert api.put("/authentication/order", json=order[:1]).status_code == 400

    kept = api.get("/authentication/jwt").json()  # the secret as ******: kept as it is
    assert (
        api.put(
            "/authentication/jwt", json={**kept, "verify_claims": {"username": "${username}"}}
        ).status_code
        == 200
    )
    assert connack(api_node.port, mqtt.MQTTv5, prefix + "j3", prefix + "j", token) == 0
    assert (
        connack(api_node.port, mqtt.MQTTv5, prefix + "j4", prefix + "other", token) == 0x86
    )  # claim differs

    assert api.delete("/authentication/jwt").status_code == 204
    assert connack(api_node.port, mqtt.MQTTv5, prefix + "j6", prefix + "j", token) == 0x87
    assert api.delete("/authentication/jwt").status_code == 404


def test_the_config_files_authenticators_win_over_api_changes_at_restart(api, api_node) -> None:
    """The file sets ``authentication``: as in EMQX 5, it wins over a change made through the
    API once the broker restarts (docs/configuration.md)."""
    created = api.post("/authentication", json={"mechanism": "jwt", "secret": "s3cret"})
    assert created.status_code == 200
    restart(api_node)
    assert [a["id"] for a in api.get("/authentication").json()] == ["password_based:built_in_database"]
    logged = restart(api_node)
    assert "authentication: the file" in logged and "wins over the value set through the API" in logged
    api.post("/configs_reset/authentication")
