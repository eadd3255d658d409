"""``/api/v2`` on the management listener of a real broker process (the module's ``api_node``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.legacy import legacy_client
from tests.api.v5.conftest import KEYS, api, api_node  # noqa: F401
from tests.durability.process import BrokerProcess


def v2_client(node: BrokerProcess, auth: tuple[str, str] | None = KEYS["administrator"]) -> httpx.Client:
    return legacy_client(node, "/api/v2", auth)


@pytest.fixture(scope="module")
def v2(api_node: BrokerProcess) -> Iterator[httpx.Client]:  # noqa: F811
    with v2_client(api_node) as client:
        yield client
