"""Embedded facts (XMP, C2PA) to and from the JSON text the store keeps them as.

Kept apart from the export records and the queries because it is generic: it rebuilds any frozen
dataclass from the JSON of ``dataclasses.asdict`` and knows nothing of tables or rows.

Embedded facts (:class:`~auditor.extract.embedded.XmpFacts`, ``C2paFacts``) are stored as the
JSON of ``dataclasses.asdict`` and rebuilt by :func:`facts_from_json`, which follows the
dataclasses' type hints: keys the current classes do not know are ignored and missing ones take
their defaults, so facts written by another version of the extractor still load.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


_D = TypeVar("_D", bound="DataclassInstance")


@functools.cache
def _hints(cls: type[Any]) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _from_json_value(value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        options = [arg for arg in args if arg is not type(None)]
        return _from_json_value(value, options[0]) if len(options) == 1 else value
    if origin is tuple and isinstance(value, list | tuple):
        if args[-1:] == (Ellipsis,):
            return tuple(_from_json_value(item, args[0]) for item in value)
        return tuple(_from_json_value(item, arg) for item, arg in zip(value, args, strict=False))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return facts_from_json(hint, value)
    return value


def facts_from_json(cls: type[_D], data: Mapping[str, Any]) -> _D:
    """Rebuild the frozen dataclass ``cls`` (nested dataclasses and tuples included) from JSON.

    ``data`` is what ``dataclasses.asdict`` gave, after a JSON round trip (tuples came back as
    lists). Unknown keys are ignored; missing keys take the field's default.
    """
    hints = _hints(cls)
    values = {
        item.name: _from_json_value(data[item.name], hints[item.name])
        for item in dataclasses.fields(cls)
        if item.name in data
    }
    return cls(**values)


def facts_to_json(value: DataclassInstance | None) -> Any:
    """Return embedded facts as JSON-ready data (tuples as lists), ``None`` when absent."""
    if value is None:
        return None
    return json.loads(json.dumps(dataclasses.asdict(value)))
