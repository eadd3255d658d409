"""The ``/api/v4`` app: every resource module's route rows in one table."""

from __future__ import annotations

from starlette.applications import Starlette

from brookmq.api.legacy import access, auth_db
from brookmq.api.legacy.framework import build
from brookmq.api.v4 import acl, admin, clients, data, mqtt, node, rules
from brookmq.service.services import Services

PREFIX = "/api/v4"


def create_app(services: Services, users: bool = False) -> Starlette:
    """``users``: for the dashboard listener, where dashboard users log in with Basic too."""
    routes = [
        *node.ROUTES,
        *clients.ROUTES,
        *mqtt.ROUTES,
        *admin.ROUTES,
        *access.ROUTES,
        *auth_db.ROUTES,
        *acl.ROUTES,
        *data.ROUTES,
        *rules.ROUTES,
    ]
    return build(PREFIX, routes, services, users=users)
