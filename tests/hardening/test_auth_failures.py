"""Failed MQTT logins feed the ban list: a client id after ``max_failures``, an address after
``max_failures_per_address``; new logins are refused, clients already in stay."""

from __future__ import annotations

from brookmq.mqtt import packets as pk
from tests.durability.process import BrokerProcess, Wire

NODE_CONFIG = """
authentication = [{mechanism = password_based, backend = built_in_database}]
authentication_failures {max_failures = 3, max_failures_per_address = 6, window_time = 60s, ban_time = 5m}
"""
AUTHN = "password_based:built_in_database"


def wire_from(node: BrokerProcess, address: str) -> Wire:
    return Wire(node.port, pk.MQTT_5, source=address)


def login(node: BrokerProcess, client_id: str, password: bytes, address: str = "127.0.0.1") -> int:
    wire = wire_from(node, address)
    code = wire.connect(client_id, username="dev", password=password).reason_code
    wire.close()
    return code


def test_a_client_id_that_keeps_failing_is_banned(api_node, api):
    assert api.post(f"/authentication/{AUTHN}/users", json={"user_id": "dev", "password": "right"}).is_success
    for _ in range(3):
        assert login(api_node, "guesser", b"wrong") == 0x86
    assert login(api_node, "guesser", b"right") == 0x8A  # banned, even with the right password
    bans = api.get("/banned", params={"clientid": "guesser"}).json()["data"]
    assert bans and bans[0]["by"] == "authentication_failures"
    assert login(api_node, "someone-else", b"right") == 0


def test_an_address_that_keeps_failing_is_banned_and_its_connected_clients_stay(api_node, api):
    inside = wire_from(api_node, "127.0.0.31")
    assert inside.connect("already-in", username="dev", password=b"right").reason_code == 0
    for i in range(6):
        assert login(api_node, f"spray-{i}", b"wrong", "127.0.0.31") == 0x86
    assert login(api_node, "fresh-id", b"right", "127.0.0.31") == 0x8A
    assert login(api_node, "fresh-id", b"right", "127.0.0.32") == 0
    inside.send(pk.Pingreq())
    assert isinstance(inside.recv(), pk.Pingresp)
    bans = api.get("/banned", params={"peerhost": "127.0.0.31"}).json()["data"]
    assert bans and bans[0]["by"] == "authentication_failures"
