"""``/auth_clientid`` and ``/auth_username`` (EMQX 4's ``emqx_auth_mnesia``, 3.x's
``emqx_auth_clientid`` / ``emqx_auth_username``; reference 2.2), shared by ``/api/v3`` and
``/api/v4``: the built-in database authenticator's users seen by client id and by username (one
table, two views, see ``extensions/authn/builtin_db``), hashed as that authenticator hashes. A
client is checked against its client id's record, else its username's. With no built-in
database authenticator in the chain the routes answer ``{"message": "not_started"}``, as EMQX 4
without the plugin.
"""

from __future__ import annotations

from typing import Any, Literal

from brookmq.api.legacy.framework import (
    MISSING_PARAM,
    PARAM_TYPE,
    Call,
    Handler,
    LegacyError,
    Ok,
    Route,
    paged,
    paging,
    required,
)
from brookmq.service.errors import AlreadyExists, Invalid, NotFound

Kind = Literal["clientid", "username"]


def _not_started(exc: NotFound) -> LegacyError:
    return LegacyError(None, "not_started" if exc.kind == "authenticator" else "noexisted")


def _row(kind: Kind, record: dict[str, Any]) -> dict[str, Any]:
    return {kind: record["user_id"], "created_at": record["created_at"]}


def _lister(kind: Kind) -> Handler:
    def run(call: Call) -> Ok:
        page, limit = paging(call)
        like = call.params.get(f"_like_{kind}")
        try:
            found = call.services.authn.view_users(kind, None if like is None else str(like), page, limit)
        except NotFound as exc:
            raise _not_started(exc) from None
        return paged(found, [_row(kind, record) for record in found.data], False)

    return run


def _lookup(kind: Kind) -> Handler:
    def run(call: Call) -> Ok:
        try:
            return Ok(_row(kind, call.services.authn.view_user(kind, call.path[kind])))
        except NotFound as exc:
            if exc.kind == "authenticator":
                raise _not_started(exc) from None
            return Ok({})

    return run


def _password(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise LegacyError(PARAM_TYPE, "password: must be a non-empty string")
    return value


async def _add_one(call: Call, kind: Kind, item: Any) -> None:
    if not isinstance(item, dict):
        raise LegacyError(PARAM_TYPE, "bad_params: each item must be an object")
    user_id, password = item.get(kind), item.get("password")
    if user_id in (None, "") or password in (None, ""):
        missing = [name for name, value in ((kind, user_id), ("password", password)) if value in (None, "")]
        raise LegacyError(MISSING_PARAM, f"missing mandatory params: {missing}")
    if not isinstance(user_id, str):
        raise LegacyError(PARAM_TYPE, f"{kind}: must be a string")
    try:
        await call.services.authn.add_to_view(kind, user_id, _password(password))
    except AlreadyExists:
        raise LegacyError(None, "existed") from None
    except NotFound as exc:
        raise _not_started(exc) from None


def _adder(kind: Kind) -> Handler:
    """One ``{kind, password}``, or an array of them: ``{"<id>": "ok" | "<error>"}``."""

    async def run(call: Call) -> Ok:
        if not isinstance(call.body, list):
            await _add_one(call, kind, call.params)
            return Ok()
        results: dict[str, str] = {}
        for item in call.body:
            key = str(item.get(kind)) if isinstance(item, dict) else str(item)
            try:
                await _add_one(call, kind, item)
            except LegacyError as exc:
                results[key] = exc.message
            except Invalid as exc:
                results[key] = exc.message
            else:
                results[key] = "ok"
        return Ok(results)

    return run


def _updater(kind: Kind) -> Handler:
    async def run(call: Call) -> Ok:
        (password,) = required(call, "password")
        try:
            await call.services.authn.update_in_view(kind, call.path[kind], _password(password))
        except NotFound as exc:
            raise _not_started(exc) from None
        return Ok()

    return run


def _deleter(kind: Kind) -> Handler:
    def run(call: Call) -> Ok:
        try:
            call.services.authn.delete_from_view(kind, call.path[kind])
        except NotFound as exc:
            raise _not_started(exc) from None
        return Ok()

    return run


def _routes(kind: Kind) -> list[Route]:
    collection, one = f"/auth_{kind}", f"/auth_{kind}/{{{kind}:path}}"
    return [
        Route(f"list_{kind}", "GET", collection, _lister(kind), f"List available {kind} in the cluster"),
        Route(f"lookup_{kind}", "GET", one, _lookup(kind), f"Lookup {kind} in the cluster"),
        Route(f"add_{kind}", "POST", collection, _adder(kind), f"Add {kind} in the cluster"),
        Route(f"update_{kind}", "PUT", one, _updater(kind), f"Update {kind} in the cluster"),
        Route(f"delete_{kind}", "DELETE", one, _deleter(kind), f"Delete {kind} in the cluster"),
    ]


ROUTES = [*_routes("clientid"), *_routes("username")]
