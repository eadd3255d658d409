"""The ``/api/v2`` app: EMQ 2.3's routes served so far (docs/api/v2.md), on the legacy
framework with EMQ 2's envelope, realm and paging."""

from __future__ import annotations

from starlette.applications import Starlette

from brookmq.api.legacy import access
from brookmq.api.legacy.framework import Call, LegacyError, Ok, Route, build
from brookmq.api.legacy.plugins import PluginDialect, config_routes, emq_plugin_routes
from brookmq.api.v2 import clients, node
from brookmq.api.v2.framework import EMQ2
from brookmq.service.dashboard import DEFAULT_USER
from brookmq.service.services import Services

PREFIX = "/api/v2"
ADMIN_UNDELETABLE = 106


def delete_user(call: Call) -> Ok:
    """EMQ 2 answers 106 for ``admin``; the rest as v3/v4."""
    if call.path["name"] == DEFAULT_USER:
        raise LegacyError(ADMIN_UNDELETABLE, "admin cannot be deleted")
    return access.delete_user(call)


USERS = [
    Route("list_users", "GET", "/users", access.list_users, "List users"),
    Route("create_user", "POST", "/users", access.create_user, "Create an user"),
    Route("update_user", "PUT", "/users/{name}", access.update_user, "Update an user"),
    Route("delete_user", "DELETE", "/users/{name}", delete_user, "Delete an user"),
    Route("auth_user", "POST", "/auth", access.auth_user, "Authenticate an user", open=True),
    Route("change_pwd", "PUT", "/change_pwd/{username}", access.change_pwd, "Change password for an user"),
]


def create_app(services: Services, users: bool = False) -> Starlette:
    """Dashboard users log in on every listener (``EMQ2.users_everywhere``), apps too."""
    dialect = PluginDialect(emq=True, started_code=110, stopped_code=111)
    plugins = [*emq_plugin_routes(dialect), *config_routes(dialect)]
    return build(PREFIX, [*node.ROUTES, *clients.ROUTES, *USERS, *plugins], services, EMQ2, users=users)
