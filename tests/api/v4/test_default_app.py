"""EMQX 4's default application ``admin`` / ``public``: let in by ``/api/v4`` only while no app
exists, with a loud warning, and gone once one is made; and ``management.bootstrap_apps_file``."""

from __future__ import annotations

import httpx

from tests.api.v5.conftest import wait_for_api
from tests.durability.process import BrokerProcess


def _node(tmp_path, **env: str) -> BrokerProcess:
    node = BrokerProcess(tmp_path, None, **env).start()
    wait_for_api(node)
    return node


def _v4(node: BrokerProcess, auth) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{node.mgmt_port}/api/v4", auth=auth, timeout=10)


def test_the_default_app_works_until_an_app_is_made(tmp_path):
    node = _node(tmp_path)
    try:
        with _v4(node, ("admin", "public")) as v4:
            assert v4.get("/brokers").json()["code"] == 0
            assert v4.get("/brokers", auth=("admin", "wrong")).status_code == 401
            v5 = httpx.get(f"http://127.0.0.1:{node.api_port}/api/v5/nodes", auth=("admin", "public"))
            assert v5.status_code == 401  # v5 takes API keys, or the dashboard user's token
            secret = v4.post("/apps", json={"app_id": "first", "name": "First"}).json()["data"]["secret"]
            assert v4.get("/brokers").status_code == 401  # the first app ended the default one
            assert v4.get("/brokers", auth=("first", secret)).json()["code"] == 0
    finally:
        logged = node.stop()
    assert "EMQX 4's default application" in logged and "'admin'" in logged


def test_the_default_app_can_be_turned_off(tmp_path):
    node = _node(tmp_path, BROOKMQ_MANAGEMENT__DEFAULT_APPLICATION__ID="")
    try:
        with _v4(node, ("admin", "public")) as v4:
            assert v4.get("/brokers").status_code == 401
    finally:
        assert "default application" not in node.stop()


def test_apps_come_from_the_bootstrap_apps_file(tmp_path):
    apps = tmp_path / "apps.txt"
    apps.write_text("ci:ci-secret-1\nreader:reader-secret-1:viewer\n")
    node = _node(tmp_path, BROOKMQ_MANAGEMENT__BOOTSTRAP_APPS_FILE=str(apps))
    try:
        with _v4(node, ("ci", "ci-secret-1")) as v4:
            assert v4.get("/brokers").json()["code"] == 0
            assert v4.get("/brokers", auth=("admin", "public")).status_code == 401  # an app exists
            ids = {app["app_id"]: app for app in v4.get("/apps").json()["data"]}
            assert ids["ci"]["desc"] == "Bootstrapped From File" and ids["reader"]["role"] == "viewer"
            assert (
                v4.post("/apps", json={"app_id": "x"}, auth=("reader", "reader-secret-1")).status_code == 403
            )
    finally:
        logged = node.stop()
    assert "2 API keys loaded from" in logged and "default application" not in logged
