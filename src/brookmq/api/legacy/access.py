"""Who may manage the broker, as ``/api/v3`` and ``/api/v4`` see it (reference 2.2): apps (an
app **is** a v5 API key: ``app_id`` = ``api_key``, ``status`` = ``enable``, ``expired`` =
``expired_at``) and dashboard users (``tags`` = the v5 user's ``description``), with ``POST /auth``
(no credentials) and ``PUT /change_pwd/{username}``. One credential model: what is made here
works on every dialect. A secret is shown once, when the app is made (reference section 7:
stored hashed, so ``GET /apps/{appid}`` has none to show).
"""

from __future__ import annotations

from typing import Any

from brookmq.api.legacy.framework import PARAM_TYPE, Call, LegacyError, Ok, Route, boolean, required
from brookmq.service.api_keys import UNSET
from brookmq.service.dashboard import DEFAULT_USER
from brookmq.service.errors import AlreadyExists, BadCredentials, NotAllowed, NotFound

BAD_LOGIN, EMPTY_LOGIN, NO_USER, USER_EXISTS, OLD_PASSWORD = 103, 104, 105, 113, 114


# ---------------------------------------------------------------- apps


def _expired(call: Call) -> Any:
    """``expired``: epoch seconds, or ``undefined`` / absent for never."""
    value = call.params.get("expired")
    if value in (None, "", "undefined"):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise LegacyError(PARAM_TYPE, f"Can't convert {str(value)[:100]} to integer type")


def _app(call: Call, key: dict[str, Any]) -> dict[str, Any]:
    return {
        "app_id": key["api_key"],
        "name": call.services.api_keys.app_name(key["name"]),
        "desc": key["desc"],
        "status": key["enable"],
        "expired": "undefined" if key["expired_at"] is None else key["expired_at"],
        "role": key["role"],
    }


def list_apps(call: Call) -> Ok:
    return Ok([_app(call, key) for key in call.services.api_keys.list()])


def lookup_app(call: Call) -> Ok:
    keys = call.services.api_keys
    try:
        return Ok(_app(call, keys.get(keys.name_of(call.path["appid"]))))
    except NotFound:
        return Ok({})


def add_app(call: Call) -> Ok:
    (app_id,) = required(call, "app_id")
    status = boolean(call, "status")
    name = call.params.get("name", "")
    if not isinstance(name, str) or len(name) > 256:
        raise LegacyError(PARAM_TYPE, "name: must be a string of at most 256 characters")
    try:
        made = call.services.api_keys.create_app(
            app_id,
            call.params.get("secret"),
            desc=call.params.get("desc", ""),
            enable=True if status is None else status,
            expired_at=_expired(call),
            role=call.params.get("role", "administrator"),
            app_name=name,
        )
    except AlreadyExists:
        raise LegacyError(None, "already_existed") from None
    return Ok({"secret": made["api_secret"]})


def update_app(call: Call) -> Ok:
    keys = call.services.api_keys
    status = boolean(call, "status")
    try:
        name = keys.name_of(call.path["appid"])
    except NotFound:
        raise LegacyError(None, "not_found") from None
    params = call.params
    keys.update(
        name,
        desc=params.get("desc", UNSET),
        enable=UNSET if status is None else status,
        expired_at=_expired(call),
        role=params.get("role", UNSET),
        app_name=params.get("name", UNSET),
    )
    return Ok()


def del_app(call: Call) -> Ok:
    keys = call.services.api_keys
    try:
        keys.delete(keys.name_of(call.path["appid"]))
    except NotFound:
        pass  # EMQX 4: deleting what is not there is done too
    return Ok()


# ---------------------------------------------------------------- dashboard users


def _user(info: dict[str, Any]) -> dict[str, Any]:
    return {"username": info["username"], "tags": info["description"], "role": info["role"]}


async def auth_user(call: Call) -> Ok:
    username, password = call.params.get("username"), call.params.get("password")
    if not username or not password:
        raise LegacyError(EMPTY_LOGIN, "username or password is empty")
    try:
        await call.services.users.check(username, password, call.source)
    except BadCredentials as exc:
        raise LegacyError(BAD_LOGIN, exc.message) from None
    return Ok()


def list_users(call: Call) -> Ok:
    return Ok([_user(info) for info in call.services.users.list()])


async def create_user(call: Call) -> Ok:
    username, password = required(call, "username", "password")
    tags = call.params.get("tags", "")
    try:
        await call.services.users.create(username, password, call.params.get("role", "administrator"), tags)
    except AlreadyExists:
        raise LegacyError(USER_EXISTS, "user already exists") from None
    return Ok()


def update_user(call: Call) -> Ok:
    try:
        call.services.users.update(call.path["name"], call.params.get("role"), call.params.get("tags"))
    except NotFound:
        raise LegacyError(NO_USER, "user does not exist") from None
    return Ok()


def delete_user(call: Call) -> Ok:
    name = call.path["name"]
    if name == DEFAULT_USER:
        raise LegacyError(None, "Cannot delete admin")
    try:
        call.services.users.delete(name)
    except NotFound:
        raise LegacyError(NO_USER, "user does not exist") from None
    except NotAllowed as exc:
        raise LegacyError(106, exc.message) from None
    return Ok()


async def change_pwd(call: Call) -> Ok:
    old, new = required(call, "old_pwd", "new_pwd")
    try:
        await call.services.users.change_password(call.path["username"], old, new)
    except NotFound:
        raise LegacyError(NO_USER, "user does not exist") from None
    except NotAllowed:
        raise LegacyError(OLD_PASSWORD, "old password error") from None
    return Ok()


ROUTES = [
    Route("add_app", "POST", "/apps", add_app, "Add Application"),
    Route("del_app", "DELETE", "/apps/{appid}", del_app, "Delete Application"),
    Route("list_apps", "GET", "/apps", list_apps, "List Applications"),
    Route("lookup_app", "GET", "/apps/{appid}", lookup_app, "Lookup Application"),
    Route("update_app", "PUT", "/apps/{appid}", update_app, "Update Application"),
    Route("auth_user", "POST", "/auth", auth_user, "Authenticate an user", open=True),
    Route("create_user", "POST", "/users", create_user, "Create an user"),
    Route("list_users", "GET", "/users", list_users, "List users"),
    Route("update_user", "PUT", "/users/{name}", update_user, "Update an user"),
    Route("delete_user", "DELETE", "/users/{name}", delete_user, "Delete an user"),
    Route("change_pwd", "PUT", "/change_pwd/{username}", change_pwd, "Change password for an user"),
]
