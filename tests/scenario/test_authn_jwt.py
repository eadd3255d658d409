"""The JWT authenticator, with tokens made by PyJWT."""

from __future__ import annotations

import base64
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from tests.conftest import VERSIONS
from tests.memory import MemoryClient

from brookmq.core.broker import Broker
from brookmq.extensions.authn.builtin_db import BuiltinDatabase
from brookmq.extensions.authn.chain import Authentication
from brookmq.extensions.authn.jwt_token import JwtAuthenticator
from brookmq.mqtt import packets as pk
from brookmq.storage.memory import MemoryStore

SECRET = "a-secret-of-at-least-32-bytes-long!!"
BAD_PASSWORD = {pk.MQTT_5: 0x86, pk.MQTT_3_1_1: 0x04}


def broker_with(clock, *authenticators) -> Broker:
    broker = Broker(clock=clock)
    authn = Authentication(broker)
    for authenticator in authenticators:
        authn.add(authenticator)
    authn.start()
    return broker


def login(
    broker: Broker, password: str | bytes, username: str = "u", client_id: str = "c", version=pk.MQTT_5
):
    c = MemoryClient(broker, version)
    raw = password.encode() if isinstance(password, str) else password
    return c, c.connect(client_id, username=username, password=raw).reason_code


def hs256(claims: dict, key: str | bytes = SECRET) -> str:
    return jwt.encode(claims, key, algorithm="HS256")


def pem(private) -> str:
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return public.decode()


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_signed_unexpired_token_lets_in(clock, version) -> None:
    auth = JwtAuthenticator(secret=SECRET)
    broker = broker_with(clock, auth)
    c, code = login(broker, hs256({"exp": time.time() + 60}), version=version)
    assert code == 0 and c.conn.is_superuser is False
    c, code = login(broker, hs256({"is_superuser": True}), client_id="root", version=version)
    assert code == 0 and c.conn.is_superuser is True
    for bad in (
        hs256({"exp": time.time() - 5}),  # expired
        hs256({"nbf": time.time() + 60}),  # not yet
        hs256({}, "another-secret-of-at-least-32-bytes"),  # wrong key
        jwt.encode({}, None, algorithm="none"),  # unsigned: refused whatever it claims
        hs256({}) + "x",  # tampered signature
    ):
        assert login(broker, bad, version=version)[1] == BAD_PASSWORD[version]
    assert auth.metrics == {"total": 7, "success": 2, "failed": 5, "nomatch": 0}


async def test_claims_must_match_the_client(clock) -> None:
    auth = JwtAuthenticator(secret=SECRET, verify_claims={"clientid": "${clientid}", "sub": "${username}"})
    broker = broker_with(clock, auth)
    token = hs256({"clientid": "dev-1", "sub": "alice"})
    assert login(broker, token, username="alice", client_id="dev-1")[1] == 0
    assert login(broker, token, username="alice", client_id="dev-2")[1] == 0x86
    assert login(broker, token, username="bob", client_id="dev-1")[1] == 0x86
    assert login(broker, hs256({"clientid": "dev-1"}), username="None", client_id="dev-1")[1] == 0x86


async def test_public_keys_pin_their_algorithms(clock) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    auth = JwtAuthenticator(algorithm="public-key", public_key=pem(rsa_key))
    broker = broker_with(clock, auth)
    assert login(broker, jwt.encode({"a": 1}, rsa_key, algorithm="RS256"))[1] == 0
    assert login(broker, jwt.encode({"a": 1}, rsa_key, algorithm="PS384"))[1] == 0
    # The classic confusion: HMAC keyed with the public key's text.
    forged = jwt.api_jws.PyJWS(algorithms=["HS256"])
    forged._algorithms["HS256"].prepare_key = lambda key: key  # let PyJWT sign with a PEM as secret
    token = forged.encode(b'{"a":1}', pem(rsa_key).encode(), algorithm="HS256")
    assert login(broker, token)[1] == 0x86
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_broker = broker_with(clock, JwtAuthenticator(algorithm="public-key", public_key=pem(ec_key)))
    assert login(ec_broker, jwt.encode({}, ec_key, algorithm="ES256"))[1] == 0
    assert login(ec_broker, jwt.encode({}, rsa_key, algorithm="RS256"))[1] == 0x86


async def test_the_token_can_come_from_the_username_and_the_secret_in_base64(clock) -> None:
    auth = JwtAuthenticator(
        secret=base64.b64encode(SECRET.encode()).decode(), secret_base64_encoded=True, from_field="username"
    )
    broker = broker_with(clock, auth)
    assert login(broker, b"ignored", username=hs256({}))[1] == 0


async def test_a_password_that_is_no_jwt_goes_to_the_next_authenticator(clock) -> None:
    users = MemoryStore().collection("authn_users")
    auth = JwtAuthenticator(secret=SECRET)
    broker = broker_with(clock, auth, BuiltinDatabase(users))
    BuiltinDatabase(users).add_user("alice", "plain-password")
    assert login(broker, "plain-password", username="alice")[1] == 0
    assert auth.metrics["nomatch"] == 1


async def test_a_key_that_cannot_be_read_denies_every_token(clock) -> None:
    auth = JwtAuthenticator(algorithm="public-key", public_key="-----BEGIN PUBLIC KEY-----\nnot a key\n")
    assert auth.problem
    broker = broker_with(clock, auth)
    assert login(broker, hs256({}))[1] == 0x86
    assert JwtAuthenticator(secret="not base64!", secret_base64_encoded=True).problem
