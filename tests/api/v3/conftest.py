"""``/api/v3`` on the management listener of a real broker process (the module's ``api_node``),
with the apps (= API keys) of each role that the v5 tests bootstrap."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.legacy import legacy_client
from tests.api.v5.conftest import KEYS, api, api_node  # noqa: F401
from tests.durability.process import BrokerProcess


def v3_client(node: BrokerProcess, role: str | None = "administrator") -> httpx.Client:
    return legacy_client(node, "/api/v3", KEYS[role] if role is not None else None)


@pytest.fixture(scope="module")
def v3(api_node: BrokerProcess) -> Iterator[httpx.Client]:  # noqa: F811
    with v3_client(api_node) as client:
        yield client
