"""The hardening suite: a real broker process per test module (``api_node`` from the v5 API
tests, with the module's ``NODE_ENV`` / ``NODE_CONFIG``), reached over raw sockets and real HTTP."""

from __future__ import annotations

from tests.api.v5.conftest import api, api_node, mqtt_client, prefix  # noqa: F401
