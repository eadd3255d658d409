"""``/api/v4/data``: an export taken from one broker restores a fresh one (apps with their
secrets, dashboard users, bans, built-in database credentials and ACL rules, all working
there), an export in EMQX 4.4's format with EMQX 4's own hashes imports with its passwords
intact, a bad import changes nothing, and the files are kept, listed, uploaded and deleted."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator

import httpx
import paho.mqtt.client as mqtt
import pytest

from tests.api.v4.conftest import v4_client
from tests.api.v5.conftest import prefix, wait_for_api  # noqa: F401
from tests.api.v5.test_authz import suback
from tests.durability.process import BrokerProcess, Wire
from tests.interop.test_access_paho import connack

NODE_CONFIG = """
authentication = [{mechanism = password_based, backend = built_in_database}]
allow_anonymous = false
"""
V311 = mqtt.MQTTv311


@pytest.fixture
def fresh(tmp_path) -> Iterator[BrokerProcess]:
    """Another broker, empty, configured as the module's (its own administrator key)."""
    config = tmp_path / "brookmq.conf"
    config.write_text(NODE_CONFIG)
    keys = tmp_path / "keys.txt"
    keys.write_text("other-admin:other-secret-1:administrator\n")
    node = BrokerProcess(tmp_path / "data", config, BROOKMQ_API_KEY__BOOTSTRAP_FILE=str(keys)).start()
    wait_for_api(node)
    yield node
    node.stop()


def _v4(node: BrokerProcess, auth=("other-admin", "other-secret-1")) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{node.mgmt_port}/api/v4", auth=auth, timeout=10)


def _v5_login(node: BrokerProcess, username: str, password: str) -> int:
    url = f"http://127.0.0.1:{node.api_port}/api/v5/login"
    return httpx.post(url, json={"username": username, "password": password}).status_code


def test_an_export_restores_a_fresh_broker(v4, api_node, fresh, prefix):  # noqa: F811
    app = v4.post("/apps", json={"app_id": prefix + "app", "name": "Carried"}).json()["data"]["secret"]
    assert v4.post("/users", json={"username": "carried", "password": "carried-pass-1"}).json()["code"] == 0
    assert (
        v4.post("/banned", json={"who": prefix + "evil", "as": "clientid", "until": 1999999999}).json()[
            "code"
        ]
        == 0
    )
    assert (
        v4.post("/auth_clientid", json={"clientid": prefix + "dev", "password": "dev-pw"}).json()["code"] == 0
    )
    rule = {"clientid": prefix + "dev", "topic": "secret/#", "action": "sub", "access": "deny"}
    assert v4.post("/acl", json=rule).json()["code"] == 0
    republish = {"name": "republish", "params": {"target_topic": "out/${clientid}", "target_qos": 1}}
    made_rule = {"id": f"rule:{prefix}", "rawsql": 'SELECT * FROM "in/#"', "actions": [republish]}
    assert v4.post("/rules", json=made_rule).json()["code"] == 0
    made = v4.post("/data/export").json()["data"]
    assert made["filename"].startswith("emqx-export-") and made["size"] > 0 and made["node"]
    assert made["filename"] in [f["filename"] for f in v4.get("/data/export").json()["data"]]
    download = v4.get(f"/data/file/{made['filename']}")
    assert download.status_code == 200
    exported = download.json()
    assert exported["version"] == "4.4" and {"rules", "resources", "blacklist", "apps", "users"} <= set(
        exported
    )
    assert all(a["secret"] == "" for a in exported["apps"])  # secrets are kept hashed, never in clear
    [carried_rule] = [r for r in exported["rules"] if r["id"] == f"rule:{prefix}"]
    assert carried_rule["rawsql"] == made_rule["rawsql"] and carried_rule["actions"][0]["name"] == "republish"
    assert carried_rule["actions"][0]["args"]["target_topic"] == "out/${clientid}"
    assert "carried-pass-1" not in download.text and app not in download.text
    with _v4(fresh) as other:
        assert other.post("/data/import", json=exported).json() == {"code": 0}
        assert other.get("/brokers", auth=(prefix + "app", app)).json()["code"] == 0  # the same secret
        names = {a["app_id"]: a["name"] for a in other.get("/apps").json()["data"]}
        assert names[prefix + "app"] == "Carried"
        restored = other.get(f"/rules/rule:{prefix}").json()["data"]
        assert (
            restored["rawsql"] == made_rule["rawsql"] and restored["actions"][0]["params"]["target_qos"] == 1
        )
    assert _v5_login(fresh, "carried", "carried-pass-1") == 200
    assert Wire(fresh.port).connect(prefix + "evil").reason_code == 0x05
    assert connack(fresh.port, V311, prefix + "dev", "anyone", "dev-pw") == 0
    assert connack(fresh.port, V311, prefix + "dev", "anyone", "wrong") == 134
    assert suback(fresh.port, prefix + "dev", "secret/x", "x", "dev-pw") == 0x87  # the ACL rule came too
    assert suback(fresh.port, prefix + "dev", "open/x", "x", "dev-pw") == 1
    with v4_client(api_node, "viewer") as viewer:
        assert viewer.get(f"/data/file/{made['filename']}").status_code == 403  # hashes: administrators only
        assert viewer.get("/data/export").json()["code"] == 0


def _emqx4_user_hash(password: str, digest: str) -> str:
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.new(digest, salt + password.encode()).digest()).decode()


def _emqx4_auth_hash(password: str) -> str:
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).hexdigest().encode()).decode()


def test_an_emqx_4_export_imports_with_its_hashes(fresh):
    export = {
        "version": "4.4",
        "date": "2024-01-02 03:04:05",
        "rules": [
            {
                "id": "rule:emqx4",
                "rawsql": 'SELECT * FROM "t/#"',
                "actions": [
                    {"id": "inspect_1", "name": "inspect", "args": {}, "fallbacks": []},
                    {
                        "id": "republish_1",
                        "name": "republish",
                        "args": {"target_topic": "r", "target_qos": -1},
                    },
                ],
                "enabled": False,
                "description": "from EMQX 4",
            }
        ],
        "resources": [],
        "blacklist": [
            {
                "who": "banned-one",
                "as": "clientid",
                "reason": "r",
                "by": "x",
                "at": 1700000000,
                "until": 1999999999,
            }
        ],
        "apps": [
            {
                "id": "legacyapp",
                "secret": "legacy-secret",
                "name": "Legacy",
                "desc": "",
                "status": True,
                "expired": "undefined",
            }
        ],
        "users": [
            {"username": "olduser", "password": _emqx4_user_hash("old-pass-1", "md5"), "tags": "ops"},
            {"username": "newer", "password": _emqx4_user_hash("newer-pass-1", "sha256"), "tags": ""},
        ],
        "auth_mnesia": [
            {
                "login": "device1",
                "type": "clientid",
                "password": _emqx4_auth_hash("123456"),
                "created_at": 1653360665243,
            },
            {
                "login": "someuser",
                "type": "username",
                "password": _emqx4_auth_hash("s3cret"),
                "is_superuser": False,
            },
        ],
        "acl_mnesia": [
            {"type": "clientid", "type_value": "device1", "topic": "t/a", "action": "sub", "access": "deny"},
            {
                "type": "clientid",
                "type_value": "device1",
                "topic": "#",
                "action": "pubsub",
                "access": "allow",
            },
        ],
    }
    with _v4(fresh) as other:
        assert other.post("/data/import", json=export).json() == {"code": 0}
        assert other.get("/brokers", auth=("legacyapp", "legacy-secret")).json()["code"] == 0
        assert other.get("/auth_clientid/device1").json()["data"]["created_at"] == 1653360665243
        imported_rule = other.get("/rules/rule:emqx4").json()["data"]
        assert imported_rule["enabled"] is False and imported_rule["description"] == "from EMQX 4"
        assert [a["name"] for a in imported_rule["actions"]] == ["inspect", "republish"]
        assert imported_rule["actions"][1]["params"]["target_qos"] == -1
    for _ in range(2):  # the second login after the first made the hash bcrypt
        assert _v5_login(fresh, "olduser", "old-pass-1") == 200
    assert _v5_login(fresh, "olduser", "not-it-1") == 401
    assert _v5_login(fresh, "newer", "newer-pass-1") == 200
    assert connack(fresh.port, V311, "device1", "x", "123456") == 0
    assert connack(fresh.port, V311, "device1", "x", "654321") == 134
    assert connack(fresh.port, V311, "c-of-someuser", "someuser", "s3cret") == 0
    assert suback(fresh.port, "device1", "t/a", "x", "123456") == 0x87  # the first rule: deny
    assert suback(fresh.port, "device1", "t/b", "x", "123456") == 1
    assert Wire(fresh.port).connect("banned-one").reason_code == 0x05


def test_a_bad_import_changes_nothing(fresh):
    with _v4(fresh) as other:
        before = other.get("/apps").json()["data"]
        bad = {
            "version": "4.4",
            "apps": [{"id": "fine", "secret": "fine-secret"}],
            "users": [{"username": "bad name!", "password": "x"}],
        }
        answer = other.post("/data/import", json=bad).json()
        assert answer["code"] == 108 and "users[0]" in answer["message"]
        assert other.get("/apps").json()["data"] == before  # the good app was not made either
        ruled = other.post("/data/import", json={"version": "4.4", "rules": [{"id": "r"}]}).json()
        assert ruled["code"] == 108 and "rules" in ruled["message"]
        assert other.post("/data/import", json={"filename": "missing.json"}).json()["code"] == 102
        assert other.post("/data/import", json={}).json()["code"] == 107
        assert other.post("/data/import", json={"filename": "../../etc/passwd.json"}).json()["code"] == 108


def test_export_files_are_uploaded_listed_and_deleted(fresh):
    with _v4(fresh) as other:
        upload = other.post(
            "/data/file", json={"filename": "mine.json", "file": '{"version": "4.4", "apps": []}'}
        )
        assert upload.json()["data"]["filename"] == "mine.json"
        assert "mine.json" in [f["filename"] for f in other.get("/data/export").json()["data"]]
        assert other.post("/data/import", json={"filename": "mine.json"}).json() == {"code": 0}
        assert other.post("/data/file", json={"filename": "x.json", "file": "not json"}).json()["code"] == 108
        assert (
            other.post("/data/file", json={"filename": "a/b.json", "file": {"version": "1"}}).json()["code"]
            == 108
        )
        assert other.delete("/data/file/mine.json").json() == {"code": 0}
        assert other.get("/data/file/mine.json").json()["code"] == 102
