"""The hot configuration of EMQ 2.x and EMQX 3.x (``GET /configs``, ``PUT /configs/{app}``),
shared by ``/api/v2`` and ``/api/v3``: a list of ``{key, value, datatpye, app}`` (the seeds'
spelling) of every scalar key of the ``mqtt`` root as ``mqtt.<key>``, plus the keys a dialect
names otherwise (``aliases``: its key to a root and the path of a key in it, as
``("authorization", ("cache", "enable"))``). A change is the one ``/api/v5`` makes through the
same settings port: live, checked, kept across restarts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from brookmq.api.legacy.framework import PARAM_TYPE, Call, LegacyError, Ok, node_of, required
from brookmq.service.errors import UpdateFailed

ROOT = "mqtt"


@dataclass(frozen=True, slots=True)
class HotConfig:
    app: str  # the application the keys belong to: EMQX 3's "emqx", EMQ 2's "emqttd"
    aliases: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    unknown: LegacyError = field(default_factory=lambda: LegacyError(None, "not_found"))

    def _where(self, key: str) -> tuple[str, tuple[str, ...]]:
        if key in self.aliases:
            return self.aliases[key]
        return ROOT, (key[len(ROOT) + 1 :],) if key.startswith(f"{ROOT}.") else ("",)

    def _value(self, call: Call, root: str, path: tuple[str, ...]) -> Any:
        value: Any = call.services.config.get(root)
        for name in path:
            value = value.get(name) if isinstance(value, dict) else None
        return value

    def items(self, call: Call) -> list[dict[str, Any]]:
        keys = [f"{ROOT}.{key}" for key, value in call.services.config.get(ROOT).items() if _scalar(value)]
        rows = []
        for key in [*keys, *self.aliases]:
            value = self._value(call, *self._where(key))
            text = str(value).lower() if isinstance(value, bool) else str(value)
            rows.append({"key": key, "value": text, "datatpye": _datatype(value), "app": self.app})
        return rows

    async def update(self, call: Call) -> Ok:
        """``{key, value}`` of the application ``{app}``."""
        node_of(call)
        key, value = required(call, "key", "value")
        if call.path["app"] != self.app or not isinstance(key, str):
            raise self.unknown
        root, path = self._where(key)
        if not _scalar(self._value(call, root, path)):
            raise self.unknown
        patch: Any = value
        for name in reversed(path):
            patch = {name: patch}
        try:
            await call.services.config.merge(root, patch)
        except UpdateFailed as exc:
            raise LegacyError(PARAM_TYPE, exc.message) from None
        return Ok()


def _scalar(value: Any) -> bool:
    return isinstance(value, bool | int | float | str)


def _datatype(value: Any) -> str:
    if isinstance(value, bool):
        return "enum"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "duration"  # the settings' floats are all durations (seconds)
    return "string"
