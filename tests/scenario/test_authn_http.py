"""The HTTP authenticator against a real HTTP service."""

from __future__ import annotations

import asyncio
import json

import pytest
from tests.authserver import AuthServer, auth_server
from tests.conftest import VERSIONS
from tests.memory import MemoryClient

from brookmq.core.broker import Broker
from brookmq.extensions.authn.builtin_db import BuiltinDatabase
from brookmq.extensions.authn.chain import Authentication
from brookmq.extensions.authn.http import HttpAuthenticator
from brookmq.extensions.tables import collection
from brookmq.mqtt import packets as pk

BAD_PASSWORD = {pk.MQTT_5: 0x86, pk.MQTT_3_1_1: 0x04}


@pytest.fixture
def service():
    with auth_server() as server:
        yield server


async def login(broker: Broker, username: str, password: bytes = b"pw", version: int = pk.MQTT_5, **kw):
    """CONNECT and wait for the CONNACK (the authenticator answers asynchronously)."""
    c = MemoryClient(broker, version)
    c.send(
        pk.Connect(kw.pop("client_id", "c-" + username), version, True, username=username, password=password)
    )
    for _ in range(500):
        if c.inbox:
            break
        await asyncio.sleep(0.01)
    return c, c.recv(pk.Connack).reason_code


async def chain(broker: Broker, *authenticators) -> Authentication:
    authn = Authentication(broker)
    for authenticator in authenticators:
        authn.add(authenticator)
    authn.start()
    return authn


@pytest.mark.parametrize("version", VERSIONS)
async def test_allow_deny_and_superuser_come_from_the_reply(clock, service: AuthServer, version) -> None:
    broker = Broker(clock=clock)
    http = HttpAuthenticator(service.url)
    await chain(broker, http)
    service.answers = {
        "alice": (200, {"result": "allow"}, 0),
        "root": (200, {"result": "allow", "is_superuser": True}, 0),
        "eve": (200, {"result": "deny"}, 0),
        "quiet": (204, b"", 0),
    }
    c, code = await login(broker, "alice", version=version)
    assert code == 0 and c.conn.is_superuser is False
    c, code = await login(broker, "root", version=version)
    assert code == 0 and c.conn.is_superuser is True
    assert (await login(broker, "eve", version=version))[1] == BAD_PASSWORD[version]
    assert (await login(broker, "quiet", version=version))[1] == 0
    assert http.metrics == {"total": 4, "success": 3, "failed": 1, "nomatch": 0}
    await http.close()


async def test_the_request_carries_the_templated_fields_as_json(clock, service: AuthServer) -> None:
    broker = Broker(clock=clock)
    http = HttpAuthenticator(
        service.url + "/${clientid}",
        headers={"x-client": "${clientid}"},
        body={"username": "${username}", "password": "${password}", "ip": "${peerhost}", "id": "${clientid}"},
    )
    await chain(broker, http)
    service.answers = {"alice": (200, {"result": "allow"}, 0)}
    assert (await login(broker, "alice", b"s3cret", client_id="dev/1 x"))[1] == 0
    [seen] = service.seen
    assert seen.method == "POST" and seen.path == "/auth/dev%2F1%20x"
    assert seen.headers["content-type"] == "application/json" and seen.headers["x-client"] == "dev/1 x"
    assert json.loads(seen.body) == {
        "username": "alice",
        "password": "s3cret",
        "ip": "127.0.0.1",
        "id": "dev/1 x",
    }
    await http.close()


async def test_get_sends_a_query_and_form_posts_a_form(clock, service: AuthServer) -> None:
    broker = Broker(clock=clock)
    service.answers = {"alice": (200, {"result": "allow"}, 0)}
    get = HttpAuthenticator(service.url, method="get")
    await chain(broker, get)
    assert (await login(broker, "alice", b"a&b=c"))[1] == 0
    assert service.seen[0].method == "GET"
    assert service.seen[0].query == {"username": ["alice"], "password": ["a&b=c"]}
    await get.close()
    broker = Broker(clock=clock)
    form = HttpAuthenticator(service.url, headers={"Content-Type": "application/x-www-form-urlencoded"})
    await chain(broker, form)
    assert (await login(broker, "alice", b"a&b=c"))[1] == 0
    assert service.seen[1].body == b"username=alice&password=a%26b%3Dc"
    await form.close()


async def test_control_characters_cannot_inject_headers(clock, service: AuthServer) -> None:
    broker = Broker(clock=clock)
    http = HttpAuthenticator(service.url, headers={"x-user": "${username}"})
    await chain(broker, http)
    await login(broker, "eve\r\nx-admin: yes")
    [seen] = service.seen
    assert "x-admin" not in seen.headers and seen.headers["x-user"] == "eve%0D%0Ax-admin: yes"
    await http.close()


async def test_ignore_and_error_statuses_pass_to_the_next_authenticator(clock, service: AuthServer) -> None:
    broker = Broker(clock=clock)
    http = HttpAuthenticator(service.url)
    db = BuiltinDatabase(collection(broker, "authn_users"))
    db.add_user("bob", "pw")
    db.add_user("carol", "pw")
    await chain(broker, http, db)
    service.answers = {"bob": (200, {"result": "ignore"}, 0), "carol": (503, {"result": "allow"}, 0)}
    assert (await login(broker, "bob"))[1] == 0
    assert (await login(broker, "carol"))[1] == 0  # 503: ignored, the database knows carol
    assert (await login(broker, "carol", b"wrong"))[1] == 0x86
    service.answers["dave"] = (500, {}, 0)
    assert (await login(broker, "dave"))[1] == 0x87  # nobody else knows dave: not authorized
    assert http.metrics["nomatch"] == 4
    await http.close()


async def test_a_service_that_cannot_answer_denies(clock, service: AuthServer) -> None:
    broker = Broker(clock=clock)
    db = BuiltinDatabase(collection(broker, "authn_users"))
    db.add_user("slow", "pw")
    db.add_user("garbled", "pw")
    http = HttpAuthenticator(service.url, request_timeout=0.3)
    await chain(broker, http, db)
    service.answers = {"slow": (200, {"result": "allow"}, 1.0), "garbled": (200, b"<html>", 0)}
    assert (await login(broker, "slow"))[1] == 0x86  # timed out: denied, not passed on
    assert (await login(broker, "garbled"))[1] == 0x86
    await http.close()
    broker = Broker(clock=clock)
    gone = HttpAuthenticator("http://127.0.0.1:9/auth")  # nothing listens there
    await chain(broker, gone)
    assert (await login(broker, "anyone"))[1] == 0x86
    await gone.close()


def test_bad_templates_are_refused() -> None:
    with pytest.raises(ValueError, match=r"body.user: unknown placeholder \$\{user\}"):
        HttpAuthenticator("http://x/auth", body={"user": "${user}"})
    with pytest.raises(ValueError, match="url: must start with http"):
        HttpAuthenticator("ftp://x/auth")
