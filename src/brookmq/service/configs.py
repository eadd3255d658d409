"""Settings as the management API reads and changes them.

The service sees the settings as JSON, one root at a time, through a ``ConfigPort`` (the config
layer's ``RuntimeConfig``): a change is checked as a whole, kept across restarts and applied
to the running broker there. Secrets are never shown: they read as ``******``, and writing
``******`` back keeps the secret as it is.
"""

from __future__ import annotations

from typing import Any, Protocol

from brookmq.service.errors import Invalid, NotFound

# The roots ``/configs`` serves; the others have their own resources (listeners, retainer, ...).
CONFIG_ROOTS = ("mqtt", "dashboard", "api_key", "log", "alarm", "sysmon", "sys_topics", "rule_engine")
HIDDEN = "******"
_SECRETS = frozenset(("default_password", "secret", "password"))


class ConfigPort(Protocol):
    def get(self, root: str) -> Any: ...

    async def update(self, root: str, value: Any) -> Any: ...

    async def merge(self, root: str, patch: Any) -> Any: ...

    async def reset(self, root: str, path: list[str] | None = None) -> Any: ...


def redact(value: Any) -> Any:
    """``value`` with every non-empty secret replaced by ``******``."""
    if isinstance(value, dict):
        return {
            key: HIDDEN if key in _SECRETS and isinstance(item, str) and item else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def unredact(new: Any, current: Any) -> Any:
    """``new`` with each ``******`` secret taken from ``current`` (what a client read back)."""
    if isinstance(new, dict):
        base = current if isinstance(current, dict) else {}
        return {
            key: base.get(key, "") if key in _SECRETS and item == HIDDEN else unredact(item, base.get(key))
            for key, item in new.items()
        }
    if isinstance(new, list):
        items = current if isinstance(current, list) else []
        return [unredact(item, items[i] if i < len(items) else None) for i, item in enumerate(new)]
    return new


class Configs:
    def __init__(self, port: ConfigPort) -> None:
        self.port = port

    def _root(self, root: str) -> str:
        if root not in CONFIG_ROOTS:
            raise NotFound(f"config root {root} not found; the roots are {', '.join(CONFIG_ROOTS)}")
        return root

    def all(self) -> dict[str, Any]:
        return {root: redact(self.port.get(root)) for root in CONFIG_ROOTS}

    def get(self, root: str) -> Any:
        return redact(self.port.get(self._root(root)))

    async def update(self, root: str, patch: Any) -> Any:
        """Merge ``patch`` (an object) into the root, key by key."""
        if not isinstance(patch, dict):
            raise Invalid("must be an object", self._root(root))
        current = self.port.get(self._root(root))
        return redact(await self.port.merge(root, unredact(patch, current)))

    async def update_all(self, roots: Any, replace: bool) -> dict[str, Any]:
        """Several roots at once (``replace``: each given root becomes exactly what is sent,
        its other keys back to their defaults); checked one root at a time, in order."""
        if not isinstance(roots, dict):
            raise Invalid("the body must be an object of config roots")
        for root, value in roots.items():
            if not isinstance(value, dict):
                raise Invalid("must be an object", self._root(root))
            self._root(root)
        for root, value in roots.items():
            value = unredact(value, self.port.get(root))
            await (self.port.update(root, value) if replace else self.port.merge(root, value))
        return {root: redact(self.port.get(root)) for root in roots}

    async def reset(self, root: str, conf_path: str | None) -> Any:
        """The file's value again, for the whole root or the ``a.b`` path inside it."""
        path = conf_path.split(".") if conf_path else None
        return redact(await self.port.reset(self._root(root), path))
