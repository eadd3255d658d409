"""What every legacy dialect's route list must hold to: each listed route, as each kind of
credential, answers as minirest does, and never 500."""

from __future__ import annotations

import re

import httpx

from brookmq.mqtt import packets as pk
from tests.api.v5.conftest import KEYS
from tests.durability.process import BrokerProcess, Wire

OPEN = {"/emqx_prometheus", "/auth"}  # for scrapers, and the login check: no credentials
DASHBOARD_USER = ("admin", "public")  # the default dashboard user: an administrator
ADMIN_ONLY = {("GET", "/data/file/:filename")}  # hands out password hashes


def legacy_client(node: BrokerProcess, prefix: str, auth: tuple[str, str] | None) -> httpx.Client:
    """A client of a legacy dialect (``/api/v4``, ...) on the management listener."""
    return httpx.Client(base_url=f"http://127.0.0.1:{node.mgmt_port}{prefix}", auth=auth, timeout=10)


def fill_a_stalled_queue(node: BrokerProcess, name: str) -> None:
    """8 KB queued for an offline session: the ``high_queued_bytes`` alarm of a node whose
    ``sysmon.max_queued_bytes`` is 4 KB."""
    stalled = Wire(node.port, pk.MQTT_5)
    props = {"session_expiry_interval": 60}
    assert stalled.connect(f"{name}-stalled", clean_start=False, properties=props).reason_code == 0
    stalled.send(pk.Subscribe(1, [(f"{name}/#", pk.SubscriptionOptions(1))]))
    stalled.recv()
    stalled.close()
    pub = Wire(node.port)
    assert pub.connect(f"{name}-filler").reason_code == 0
    for i in range(8):
        pub.send(pk.Publish(f"{name}/{i}", b"x" * 1024, 1, packet_id=i + 1))


def walk_routes(node: BrokerProcess, prefix: str, realm: str = "minirest-server") -> None:
    """No credential or a bad one: 401 plain text with minirest's realm; a role: 403 for what it
    may not do, else 200 with a numeric code or a message (bad or missing parameters included).
    Apps on the management listener, and the dashboard user on the dashboard listener."""
    mgmt = f"http://127.0.0.1:{node.mgmt_port}{prefix}"
    with httpx.Client(base_url=mgmt, auth=KEYS["administrator"], timeout=10) as admin:
        answer = admin.get("/").json()
        listed = answer.get("data", answer.get("result"))  # v3/v4's envelope, or v2's
        name = admin.get(f"http://127.0.0.1:{node.mgmt_port}/api/v4/nodes").json()["data"][0]["node"]
    assert listed and all(set(route) == {"name", "method", "path", "descr"} for route in listed)
    callers = [(mgmt, None, None), (mgmt, ("nope", "bad"), None)]
    callers += [(mgmt, KEYS[role], role) for role in ("viewer", "publisher", "administrator")]
    callers.append((f"http://127.0.0.1:{node.api_port}{prefix}", DASHBOARD_USER, "administrator"))
    for base, auth, role in callers:
        with httpx.Client(base_url=base, auth=auth, timeout=10) as client:
            for route in listed:
                path = re.sub(r":\w+", "nobody", route["path"].replace(":node", name))
                reply = client.request(route["method"], path)
                where = (base, role, route)
                assert reply.status_code < 500, where
                viewable = route["method"] == "GET" and (route["method"], route["path"]) not in ADMIN_ONLY
                may = role == "administrator" or (role == "viewer" and viewable)
                may = may or (role == "publisher" and route["path"].startswith("/mqtt/publish"))
                if route["path"] in OPEN:
                    assert reply.status_code == 200, where
                elif role is None:
                    assert reply.status_code == 401 and reply.text == "UNAUTHORIZED", where
                    assert reply.headers["www-authenticate"] == f'Basic Realm="{realm}"'
                elif not may:
                    assert reply.status_code == 403, where
                else:  # a numeric code, or only a message as EMQX's handlers answer some errors
                    body = reply.json()
                    assert reply.status_code == 200, where
                    assert isinstance(body.get("code"), int) or set(body) == {"message"}, where
