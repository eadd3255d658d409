"""Load settings: defaults, then the HOCON file, then ``BROOKMQ_<PATH>`` environment variables."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pyhocon import ConfigFactory
from pyhocon.exceptions import ConfigException
from pyparsing import ParseBaseException

from brookmq.config.settings import Settings

ENV_PREFIX = "BROOKMQ_"


class ConfigError(Exception):
    """A setting that cannot be used; the message names the key and what it should be."""


def load_settings(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """The settings, each explicitly set key remembering where it was set (``Settings.set_by``)."""
    raw: dict[str, Any] = {}
    sources: dict[tuple[str, ...], str] = {}
    if path is not None:
        raw = _read_hocon(Path(path))
        _note_leaves(raw, (), f"the file {path}", sources)
    for dotted, value in env_overrides(os.environ if environ is None else environ).items():
        keys = dotted.split(".")
        _set_path(raw, keys, value)
        sources[tuple(keys)] = f"the environment (BROOKMQ_{dotted.upper().replace('.', '__')})"
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_errors(exc)) from None
    settings.remember_sources(sources)
    return settings


def _note_leaves(tree: Any, path: tuple[str, ...], source: str, out: dict[tuple[str, ...], str]) -> None:
    if isinstance(tree, dict) and tree:
        for key, value in tree.items():
            _note_leaves(value, (*path, key), source, out)
    elif path:
        out[path] = source


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """``BROOKMQ_MQTT__MAX_PACKET_SIZE=2MB`` -> ``{"mqtt.max_packet_size": "2MB"}`` (EMQX style);
    a root key alone (``BROOKMQ_AUTHENTICATION=[...]``) when it is one of the settings' roots."""
    out: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX) :].lower()
        if "__" in path or path in Settings.model_fields:
            out[path.replace("__", ".")] = _env_value(value)
    return out


def _env_value(value: str) -> Any:
    """Arrays and objects are read as HOCON (``["tlsv1.3"]``); everything else stays a string."""
    if value.strip()[:1] in ("[", "{"):
        try:
            return _to_dict(ConfigFactory.parse_string(f"v = {value}").get("v"))
        except (ConfigException, ParseBaseException, ValueError):
            pass
    return value


def _read_hocon(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        tree = ConfigFactory.parse_file(str(path))
    except (ConfigException, ParseBaseException, ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    plain: dict[str, Any] = tree.as_plain_ordered_dict()
    return _to_dict(plain)


def _to_dict(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _to_dict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_dict(v) for v in value]
    return value


def _set_path(tree: dict[str, Any], keys: list[str], value: Any) -> None:
    for key in keys[:-1]:
        child = tree.get(key)
        if not isinstance(child, dict):
            child = tree[key] = {}
        tree = child
    tree[keys[-1]] = value


def format_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(root)"
        message = err["msg"]
        got = err.get("input")
        shown = "" if isinstance(got, dict) else f" (got {got!r})"
        # A model's own check says "<field>: <problem>"; the field belongs in the key.
        field = re.match(r"Value error, ([\w.]+): (.*)", message)
        if field:
            prefix = "" if key == "(root)" else f"{key}."
            key, message, shown = f"{prefix}{field.group(1)}", field.group(2), ""
        lines.append(f"{key}: {message}{shown}")
    return "invalid configuration:\n  " + "\n  ".join(lines)
