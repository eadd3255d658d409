"""RuntimeConfig: what the API changed is kept as a difference from the file, so a restart
with a changed file keeps the API's keys and takes the file's others."""

from __future__ import annotations

import asyncio

import pytest

from brookmq.config.runtime import RuntimeConfig, difference, patched
from brookmq.config.settings import Settings
from brookmq.service.errors import UpdateFailed
from brookmq.storage.memory import MemoryStore


def test_difference_and_patched_round_trip() -> None:
    base = {"a": 1, "b": {"c": 2, "d": 3}, "gone": {"x": 1}, "list": [1, 2]}
    new = {"a": 1, "b": {"c": 5, "d": 3}, "added": True, "list": [2]}
    patch = difference(base, new)
    assert patch == {"b": {"c": 5}, "gone": "$removed", "added": True, "list": [2]}
    assert patched(base, patch) == new
    assert difference(new, new) == {}


def test_api_keys_win_the_files_other_keys_follow_it() -> None:
    overrides = MemoryStore().collection("config_overrides")
    config = RuntimeConfig.load(Settings(), overrides)
    applied: list[int] = []
    config.on_change("mqtt", lambda old, new: applied.append(new.mqtt.max_inflight))
    asyncio.run(config.merge("mqtt", {"max_inflight": 7}))
    assert applied == [7] and config.settings.mqtt.max_inflight == 7
    assert overrides.get("mqtt") == {"patch": {"max_inflight": 7}}

    newer_file = Settings.model_validate({"mqtt": {"max_inflight": 9, "max_awaiting_rel": 50}})
    again = RuntimeConfig.load(newer_file, overrides)
    assert again.settings.mqtt.max_inflight == 7  # the API's
    assert again.settings.mqtt.max_awaiting_rel == 50  # the file's, changed since

    asyncio.run(again.reset("mqtt"))
    assert again.settings.mqtt.max_inflight == 9 and overrides.get("mqtt") is None


def test_a_failing_applier_rolls_back_and_refuses() -> None:
    config = RuntimeConfig.load(Settings(), MemoryStore().collection("config_overrides"))

    def refuse(old: Settings, new: Settings) -> None:
        if new.mqtt.max_inflight == 5:
            raise OSError(98, "Address already in use")

    config.on_change("mqtt", refuse)
    with pytest.raises(UpdateFailed, match=r"mqtt: .*Address already in use"):
        asyncio.run(config.merge("mqtt", {"max_inflight": 5}))
    assert config.settings.mqtt.max_inflight == 32 and config.overridden() == []
    with pytest.raises(UpdateFailed, match=r"mqtt\.max_inflight"):
        asyncio.run(config.merge("mqtt", {"max_inflight": 0}))
    with pytest.raises(UpdateFailed, match="node: cannot be changed"):
        asyncio.run(config.update("node", {}))


def test_a_scalar_root_is_kept_while_it_differs_from_the_file() -> None:
    overrides = MemoryStore().collection("config_overrides")
    config = RuntimeConfig.load(Settings(), overrides)
    asyncio.run(config.update("allow_anonymous", "false"))
    assert config.settings.allow_anonymous is False and overrides.get("allow_anonymous") == {"patch": False}
    assert RuntimeConfig.load(Settings(), overrides).settings.allow_anonymous is False
    asyncio.run(config.update("allow_anonymous", True))
    assert overrides.get("allow_anonymous") is None  # the file's value again: nothing to keep
