"""The settings as they are now: the file's, with what the management API changed on top.

A change names a root (``mqtt``, ``authentication``, ``listeners``, ...) and its new value. It
is checked as a whole ``Settings`` (so a zone or a listener can never point at something that
is not there) and handed to the appliers the app registered for that root. Then what differs
from the file's settings is kept in the store's ``config_overrides`` collection, key by key, so
at the next start (``load``) the keys changed through the API win and every other key is the
file's (or the environment's) as it is then. ``reset`` goes back to the file's value.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from brookmq.config.loader import format_errors
from brookmq.config.settings import Settings
from brookmq.core.store import Collection
from brookmq.service.errors import UpdateFailed

log = logging.getLogger("brookmq.config")

# What the management API may change; node and durability shape the store itself.
CHANGEABLE = (
    "mqtt",
    "listeners",
    "zones",
    "sys_topics",
    "sysmon",
    "alarm",
    "conn_congestion",
    "delayed",
    "rule_engine",
    "retainer",
    "flapping_detect",
    "authentication",
    "authorization",
    "dashboard",
    "api_key",
    "log",
    "allow_anonymous",
)

Applier = Callable[[Settings, Settings], Awaitable[None] | None]


class RuntimeConfig:
    def __init__(self, file_settings: Settings, overrides: Collection) -> None:
        self.file_settings = file_settings
        self.overrides = overrides
        self.settings = file_settings
        self._appliers: dict[str, list[Applier]] = {}

    @classmethod
    def load(cls, file_settings: Settings, overrides: Collection) -> RuntimeConfig:
        """The file's settings with the kept overrides on top, except where the file or the
        environment set the key itself: those win, as in EMQX 5 (the kept value stays for when
        they no longer set it). Each key's layer is logged. An override that no longer fits (the
        file changed under it) is left out, loudly, and kept for ``reset``."""
        config = cls(file_settings, overrides)
        for root, doc in overrides.items():
            if root not in CHANGEABLE:
                continue
            patch = config._unbeaten((root,), doc["patch"])
            if patch == {}:
                continue
            try:
                config.settings = config._with(root, patched(config._file(root), patch))
            except UpdateFailed as exc:
                log.error("the %s settings changed through the API are not used: %s", root, exc)
        return config

    def _unbeaten(self, path: tuple[str, ...], patch: Any) -> Any:
        """``patch`` without the keys the file or the environment set, logging each key's layer."""
        if isinstance(patch, dict) and patch:
            kept = {}
            for key, value in patch.items():
                inner = self._unbeaten((*path, key), value)
                if inner is not _BEATEN:
                    kept[key] = inner
            return kept
        dotted = ".".join(path)
        source = self.file_settings.set_by(path)
        if source is not None:
            log.info("%s: %s wins over the value set through the API", dotted, source)
            return _BEATEN
        log.info("%s: set through the API (kept in the database)", dotted)
        return patch

    def on_change(self, root: str, applier: Applier) -> None:
        """Call ``applier(old, new)`` after ``root`` changed."""
        self._appliers.setdefault(root, []).append(applier)

    def get(self, root: str) -> Any:
        """The root's value in JSON form (durations in seconds, sizes in bytes)."""
        return self.settings.model_dump(mode="json", by_alias=True)[root]

    def overridden(self) -> list[str]:
        return [root for root, _ in self.overrides.items()]

    async def update(self, root: str, value: Any) -> Any:
        """Make ``value`` the root's, keep it, apply it; returns the root as it is now."""
        if root not in CHANGEABLE:
            raise UpdateFailed(f"{root}: cannot be changed at run time")
        await self._apply(root, self._with(root, value))
        if self.get(root) == self._file(root):
            self.overrides.delete(root)
        else:
            self.overrides.put(root, {"patch": difference(self._file(root), self.get(root))})
        return self.get(root)

    def _file(self, root: str) -> Any:
        return self.file_settings.model_dump(mode="json", by_alias=True)[root]

    async def merge(self, root: str, patch: Any) -> Any:
        """``update`` with ``patch`` deep-merged into the root's current value (objects merge
        key by key; anything else replaces)."""
        return await self.update(root, merged(self.get(root), patch))

    async def reset(self, root: str, path: list[str] | None = None) -> Any:
        """The file's value again: of the whole root (the API's copy is forgotten), or of the
        key at ``path`` inside it."""
        if root not in CHANGEABLE:
            raise UpdateFailed(f"{root}: cannot be changed at run time")
        original = self._file(root)
        if path:
            for key in path:
                if not isinstance(original, dict) or key not in original:
                    raise UpdateFailed(f"{root}.{'.'.join(path)}: no such key")
                original = original[key]
            patch: Any = original
            for key in reversed(path):
                patch = {key: patch}
            return await self.merge(root, patch)
        await self._apply(root, self._with(root, original))
        self.overrides.delete(root)
        return self.get(root)

    def _with(self, root: str, value: Any) -> Settings:
        raw = self.settings.model_dump(mode="json", by_alias=True)
        raw[root] = value
        try:
            return Settings.model_validate(raw)
        except ValidationError as exc:
            raise UpdateFailed(format_errors(exc).removeprefix("invalid configuration:\n  ")) from None

    async def _apply(self, root: str, new: Settings) -> None:
        """Run the root's appliers; when one fails (a port taken, a file unreadable) the old
        settings are applied again and the change is refused."""
        old = self.settings
        try:
            await self._run(root, old, new)
        except (OSError, ValueError) as exc:
            log.warning("%s settings not applied: %s", root, exc)
            await self._run(root, new, old)
            raise UpdateFailed(f"{root}: {exc}") from None

    async def _run(self, root: str, old: Settings, new: Settings) -> None:
        self.settings = new
        for applier in self._appliers.get(root, []):
            done = applier(old, new)
            if inspect.isawaitable(done):
                await done


REMOVED = "$removed"  # in a kept difference: the file's key is gone
_BEATEN: Any = object()  # a kept key the file or the environment sets itself


def difference(base: Any, new: Any) -> Any:
    """What turns ``base`` into ``new``: objects key by key (``$removed`` for a key that is
    gone), anything else whole. ``{}`` when they are the same."""
    if not (isinstance(base, dict) and isinstance(new, dict)):
        return new
    out = {key: REMOVED for key in base if key not in new}
    for key, value in new.items():
        if key not in base:
            out[key] = value
        elif value != base[key]:
            out[key] = difference(base[key], value)
    return out


def patched(base: Any, patch: Any) -> Any:
    """``base`` with a ``difference`` applied."""
    if not (isinstance(base, dict) and isinstance(patch, dict)):
        return patch
    out = dict(base)
    for key, value in patch.items():
        if value == REMOVED:
            out.pop(key, None)
        else:
            out[key] = patched(base.get(key), value)
    return out


def merged(current: Any, patch: Any) -> Any:
    if isinstance(current, dict) and isinstance(patch, dict):
        out = dict(current)
        for key, value in patch.items():
            out[key] = merged(current.get(key), value)
        return out
    return patch
