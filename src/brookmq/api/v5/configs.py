"""``/configs``: the settings roots ``mqtt``, ``dashboard``, ``api_key``, ``log``, ``alarm``,
``sysmon`` and ``sys_topics``, read and changed at run time (changes are kept across restarts;
``/configs_reset`` goes back to the file's values)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import Body, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response

from brookmq.api.v5.security import Authenticated, router, services
from brookmq.service.configs import CONFIG_ROOTS

routes = router(tags=["Configs"])
Root = Annotated[str, Path(description=f"One of {', '.join(CONFIG_ROOTS)}")]
Settings = Annotated[dict[str, Any], Body(description="The keys to change; the others stay")]


@routes.get("/configs", responses={200: {"content": {"text/plain": {}, "application/json": {}}}})
async def all_configs(
    request: Request,
    caller: Authenticated,
    key: Annotated[str | None, Query(description=f"Only this root: {', '.join(CONFIG_ROOTS)}")] = None,
) -> Response:
    """Every root, or the ``key`` root. JSON with ``Accept: application/json``; otherwise the same
    as text (JSON is valid HOCON, so it can be pasted into a config file)."""
    configs = services(request).configs
    body = {key: configs.get(key)} if key else configs.all()
    text = json.dumps(body, indent=2)
    if "application/json" in request.headers.get("accept", ""):
        return Response(text, media_type="application/json")
    return PlainTextResponse(text)


@routes.put("/configs")
async def update_configs(
    request: Request,
    caller: Authenticated,
    body: Annotated[dict[str, Any], Body(description="{root: settings} for one or more roots")],
    mode: Literal["merge", "replace"] = "merge",
) -> dict[str, Any]:
    """``merge``: the keys given change, the others stay; ``replace``: each root given becomes
    what is sent, the keys left out going back to their defaults."""
    return await services(request).configs.update_all(body, mode == "replace")


@routes.get("/configs/{root}")
async def get_config(root: Root, request: Request, caller: Authenticated) -> Any:
    return services(request).configs.get(root)


@routes.put("/configs/{root}")
async def update_config(root: Root, body: Settings, request: Request, caller: Authenticated) -> Any:
    """400 ``UPDATE_FAILED`` naming the key when the result cannot be used; nothing changes then."""
    return await services(request).configs.update(root, body)


@routes.post("/configs_reset/{root}")
async def reset_config(
    root: Root,
    request: Request,
    caller: Authenticated,
    conf_path: Annotated[str | None, Query(description="Only this key inside the root: a.b")] = None,
) -> Any:
    """The file's value again (the API's change is forgotten)."""
    return await services(request).configs.reset(root, conf_path)
