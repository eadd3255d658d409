"""The ``/api/v3`` app: every resource module's route rows in one table."""

from __future__ import annotations

import dataclasses

from starlette.applications import Starlette

from brookmq.api.legacy import access, auth_db
from brookmq.api.legacy.framework import Route, build
from brookmq.api.v3 import clients, node, rules
from brookmq.service.services import Services

PREFIX = "/api/v3"
_LISTED_WITH_SLASH = ("/apps", "/users")  # seed 000 lists these collections as "/apps/"


def _as_listed(route: Route) -> Route:
    return dataclasses.replace(route, path=route.path + "/") if route.path in _LISTED_WITH_SLASH else route


def create_app(services: Services, users: bool = False) -> Starlette:
    """``users``: for the dashboard listener, where dashboard users log in with Basic too."""
    shared = [_as_listed(route) for route in access.ROUTES]
    return build(
        PREFIX,
        [*node.ROUTES, *clients.ROUTES, *shared, *auth_db.ROUTES, *rules.ROUTES],
        services,
        users=users,
    )
