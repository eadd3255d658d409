"""minirest, as EMQX 3.x and 4.x serve their management API (reference section 2.1).

A dialect is a prefix and a table of ``Route`` rows (name, method, path, function, description);
the router and the ``GET <prefix>/`` listing are both made from the table, so they cannot
disagree. Every route: HTTP Basic with an app (an app is a v5 API key: one credential model),
its role (administrator everything, viewer GET only, publisher only ``mqtt/publish*``), then the
body (after the credentials: an unauthenticated body is never read), query and JSON body pairs
merged, and the envelope: ``{"code": 0[, "data"][, "meta"]}``, errors HTTP 200 with a numeric
code. 401 is plain text ``UNAUTHORIZED``; an unknown route 404 ``Not found.``; a body that is
not JSON 400 ``Bad Request``; nothing answers 500 to bad input. EMQ 2's ``/api/v2`` differs in
its ``Dialect`` (realm, envelope, the answer to a body that is not JSON) only.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import json
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route as StarletteRoute

from brookmq.core.text import unencodable
from brookmq.service.errors import BadCredentials, Invalid, ServiceError
from brookmq.service.paging import MAX_LIMIT, Page
from brookmq.service.services import Services

# The numeric codes (EMQX 4.4 emqx_mgmt.hrl).
BADRPC, UNKNOWN, MISSING_PARAM, PARAM_TYPE, CLIENT_OFFLINE, BAD_TOPIC, BAD_QOS = (
    101,
    102,
    107,
    108,
    112,
    115,
    116,
)


class LegacyError(Exception):
    """An error answered with HTTP 200: ``{"code": code, "message": message}`` (no code: only
    the message, as EMQX's handlers that return ``{error, Reason}`` do)."""

    def __init__(self, code: int | None, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True, slots=True)
class Ok:
    data: Any = None
    meta: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """What a route function gets."""

    services: Services
    params: dict[str, Any]  # query and JSON body pairs, merged
    path: dict[str, str]
    body: Any  # the JSON body as sent (batch routes take arrays)
    role: str  # the app's; "" on a route that needs no credentials
    source: str = ""  # the caller's address


Handler = Callable[[Call], "Ok | Response | Awaitable[Ok | Response]"]


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    method: str
    path: str  # "/nodes/{node}/stats"; served with and without a trailing slash
    func: Handler
    descr: str
    open: bool = False  # needs no credentials
    admin: bool = False  # administrators only, GET too (what hands out hashes: backups)

    @property
    def shown_path(self) -> str:
        """As minirest lists it: ``/nodes/:node/stats``."""
        return re.sub(r"\{(\w+)(:\w+)?\}", r":\1", self.path)


class OutOfRange(Exception):
    """A JSON number no float holds (``1e400``): answered 108, never echoed back as ``inf``."""


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise OutOfRange(text[:40])
    return value


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python's json takes NaN and Infinity; JSON does not


def _unauthorized(realm: str) -> Response:
    return PlainTextResponse("UNAUTHORIZED", 401, headers={"WWW-Authenticate": f'Basic Realm="{realm}"'})


async def _role(services: Services, request: Request, users: bool) -> str | None:
    """The role of the app in the HTTP Basic header, or (``users``: on the dashboard listener,
    as EMQX 4's dashboard) of the dashboard user; None when neither."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        name, sep, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if not sep:
        return None
    try:
        return str(services.api_keys.verify_app(name, secret)["role"])
    except BadCredentials:
        if not users:
            return None
    source = request.client.host if request.client is not None else ""
    try:
        return await services.users.check(name, secret, source)
    except BadCredentials:
        return None


def _allowed(route: Route, role: str) -> bool:
    if role == "administrator":
        return True
    if route.admin:
        return False
    if role == "viewer":
        return route.method == "GET"
    if role == "publisher":
        return route.method == "POST" and route.path.startswith("/mqtt/publish")
    return False


def envelope(result: Ok) -> dict[str, Any]:
    out: dict[str, Any] = {"code": 0}
    if result.data is not None:
        out["data"] = result.data
    if result.meta is not None:
        out["meta"] = result.meta
    return out


@dataclass(frozen=True, slots=True)
class Dialect:
    """What the legacy generations' frameworks do differently: the Basic realm, the success
    envelope, and the answer to a body that is not JSON."""

    realm: str
    envelope: Callable[[Ok], dict[str, Any]]
    not_json: Callable[[], Response]
    users_everywhere: bool = False  # dashboard users log in on every listener, not only 18083


MINIREST = Dialect("minirest-server", envelope, lambda: PlainTextResponse("Bad Request", 400))  # v3, v4


def _endpoint(
    route: Route, services: Services, dialect: Dialect, users: bool
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        role = ""  # an open route's caller has none
        if not route.open:
            found = await _role(services, request, users)
            if found is None:
                return _unauthorized(dialect.realm)
            if not _allowed(route, found):
                return PlainTextResponse("FORBIDDEN", 403)
            role = found
        raw = await request.body()  # only now: after the credentials
        body: Any = None
        if raw.strip():
            try:
                body = json.loads(raw, parse_float=_finite, parse_constant=_not_json)
            except OutOfRange as exc:
                return JSONResponse({"code": PARAM_TYPE, "message": f"the number {exc} is out of range"})
            except ValueError:
                return dialect.not_json()
        params: dict[str, Any] = dict(request.query_params)
        if isinstance(body, dict):
            params.update(body)
        try:
            where = unencodable(body)
            if where is not None:
                raise LegacyError(PARAM_TYPE, f"{where or 'body'}: is not valid UTF-8 text")
            source = request.client.host if request.client is not None else ""
            result = route.func(Call(services, params, dict(request.path_params), body, role, source))
            if inspect.isawaitable(result):
                result = await result
            if isinstance(result, Response):  # a route that is not JSON (Prometheus' text)
                return result
        except LegacyError as exc:
            error = (
                {"message": exc.message} if exc.code is None else {"code": exc.code, "message": exc.message}
            )
            return JSONResponse(error)
        except Invalid as exc:  # what a route does not word itself: the field named
            return JSONResponse({"code": PARAM_TYPE, "message": exc.message})
        except ServiceError as exc:
            return JSONResponse({"code": UNKNOWN, "message": exc.message})
        return JSONResponse(dialect.envelope(result))

    return endpoint


def build(
    prefix: str, routes: list[Route], services: Services, dialect: Dialect = MINIREST, users: bool = False
) -> Starlette:
    """The ASGI app of one dialect, mounted at ``prefix``; ``GET <prefix>/`` lists the table.
    ``users``: dashboard users' passwords are taken too (the dashboard listener's mount)."""

    async def listing(call: Call) -> Ok:
        return Ok(
            [{"name": r.name, "method": r.method, "path": r.shown_path, "descr": r.descr} for r in routes]
        )

    table = [Route("list_routes", "GET", "/", listing, "List the API's routes"), *routes]
    app = Starlette(
        routes=[
            StarletteRoute(
                path, _endpoint(r, services, dialect, users or dialect.users_everywhere), methods=[r.method]
            )
            for r in table
            for path in _with_and_without_slash(r.path)
        ],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.prefix = prefix
    return app


def _with_and_without_slash(path: str) -> tuple[str, ...]:
    """``/brokers/`` and ``/brokers`` alike: EMQX 3 lists the one, scripts call the other."""
    if path == "/":
        return (path,)
    return (path, path.rstrip("/")) if path.endswith("/") else (path, path + "/")


async def _http_error(request: Request, exc: Exception) -> Response:
    """minirest answers an unknown route, or a known path with another method, 404 ``Not found.``;
    a body over the limit is 413 (``BodyLimit``), in plain text too."""
    status = getattr(exc, "status_code", 404)
    if status in (404, 405):
        return PlainTextResponse("Not found.", 404)
    return PlainTextResponse(str(getattr(exc, "detail", "")), status)


def on_node(name: str, method: str, path: str, func: Handler, descr: str) -> list[Route]:
    """A cluster route and its ``/nodes/{node}`` form."""
    return [
        Route(name, method, path, func, descr),
        Route(f"{name}_on_node", method, f"/nodes/{{node}}{path}", func, f"{descr} on a node"),
    ]


def node_of(call: Call, node: Any = None) -> str:
    """The ``{node}`` of a node-scoped route (or ``node`` given): this node, or code 101
    (badrpc) for another."""
    node = call.path.get("node", call.services.node.name) if node is None else node
    if node != call.services.node.name:
        raise LegacyError(BADRPC, f"badrpc: node {node} is not in the cluster")
    return node


def required(call: Call, *names: str) -> list[Any]:
    """The values of parameters that must be given: code 107 naming the missing ones."""
    missing = [name for name in names if call.params.get(name) in (None, "")]
    if missing:
        raise LegacyError(MISSING_PARAM, f"missing mandatory params: {missing}")
    return [call.params[name] for name in names]


def integer(call: Call, name: str, default: int | None = None) -> int | None:
    """An integer parameter (query strings are text): code 108 when it is not one."""
    value = call.params.get(name, default)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,18}", value.strip()):
        return int(value)
    raise LegacyError(PARAM_TYPE, f"Can't convert {str(value)[:100]} to integer type")


def boolean(call: Call, name: str) -> bool | None:
    value = call.params.get(name)
    if value is None or isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise LegacyError(PARAM_TYPE, f"Can't convert {str(value)[:100]} to boolean type")


def paging(call: Call, max_limit: int = MAX_LIMIT) -> tuple[int, int]:
    """``_page`` (1) and ``_limit`` (``management.max_row_limit``, 10000)."""
    page, limit = integer(call, "_page", 1), integer(call, "_limit", max_limit)
    assert page is not None and limit is not None
    if page < 1 or not 1 <= limit <= max_limit:
        raise LegacyError(PARAM_TYPE, f"_page must be 1 or more and _limit 1..{max_limit}")
    return page, limit


def paged(page: Page, rows: list[Any], filtered: bool) -> Ok:
    """minirest's meta: ``count`` is the total without filters and -1 with any."""
    count = -1 if filtered or page.count is None else page.count
    return Ok(rows, {"page": page.page, "limit": page.limit, "hasnext": page.hasnext, "count": count})
