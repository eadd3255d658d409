"""Array and map functions. Array positions are 1-based; a map key may be a dotted path
(``map_get('a.b', m)``) or, for ``mget`` / ``mput``, an array of keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from brookmq.extensions.rules.functions.conversion import to_map
from brookmq.extensions.rules.values import SqlRuntimeError, integer, same, string


def _array(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    raise SqlRuntimeError(f"{value!r} is not an array")


def nth(n: Any, items: Any) -> Any:
    index, array = integer(n), _array(items)
    if not 0 < index <= len(array):
        raise SqlRuntimeError(f"no element {index} in an array of {len(array)}")
    return array[index - 1]


def sublist(first: Any, second: Any, third: Any = None) -> list[Any]:
    if third is None:
        return _array(second)[: max(integer(first), 0)]
    start, length, array = integer(first), integer(second), _array(third)
    if start < 1:
        raise SqlRuntimeError("sublist starts at 1")
    return array[start - 1 : start - 1 + max(length, 0)]


def first(items: Any) -> Any:
    array = _array(items)
    if not array:
        raise SqlRuntimeError("first of an empty array")
    return array[0]


def last(items: Any) -> Any:
    array = _array(items)
    if not array:
        raise SqlRuntimeError("last of an empty array")
    return array[-1]


def contains(item: Any, items: Any) -> bool:
    return any(same(item, element) for element in _array(items))


_MISSING: Any = object()


def _path(key: Any) -> list[str]:
    if isinstance(key, list):
        return [string(part) for part in key]
    return string(key).split(".")


def _lookup(path: list[str], data: Any) -> Any:
    value = to_map(data)
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def map_get(key: Any, data: Any, default: Any = None) -> Any:
    """The key as given first, then as a dotted path."""
    mapping = to_map(data)
    if isinstance(key, str | bytes) and string(key) in mapping:
        return mapping[string(key)]
    found = _lookup(_path(key), mapping)
    return default if found is _MISSING else found


def map_put(key: Any, value: Any, data: Any) -> dict[str, Any]:
    path = _path(key)
    out = dict(to_map(data))
    target = out
    for part in path[:-1]:
        inner = target.get(part)
        target[part] = dict(inner) if isinstance(inner, dict) else {}
        target = target[part]
    target[path[-1]] = value
    return out


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "nth": nth,
    "length": lambda items: len(_array(items)),
    "sublist": sublist,
    "first": first,
    "last": last,
    "contains": contains,
    "map_new": dict,
    "map_get": map_get,
    "map_put": map_put,
    "mget": map_get,
    "mput": map_put,
    "map_keys": lambda data: list(to_map(data)),
    "map_values": lambda data: list(to_map(data).values()),
    "map_size": lambda data: len(to_map(data)),
    "map_to_entries": lambda data: [{"key": k, "value": v} for k, v in to_map(data).items()],
}
