"""Safe YAML loading that remembers where every value came from.

Policy packs and ``audit.yaml`` are user input, and hostile input is normal input (DESIGN 5).
:func:`load_yaml` therefore only ever *composes* YAML into nodes with PyYAML's safe loader
(LibYAML's when available) and builds plain data from them itself:

* only plain data is accepted: mappings, lists, strings, numbers, booleans, null and timestamps
  (the ``yaml.safe_load`` scalar set); any other tag, ``!!python/...`` included, is an error and
  nothing is ever instantiated;
* duplicate mapping keys are errors (``safe_load`` silently keeps the last one);
* aliases are expanded as copies under a node budget, so a "billion laughs" document is rejected
  instead of exhausting memory, and a recursive alias is rejected outright;
* size, encoding, syntax and nesting problems become :class:`~auditor.errors.Problem` values with
  the line of the offending node, raised through the caller's error class.

The line of every key and list item is kept, so later validation layers (pydantic, the policy
compiler) can report ``file:line`` with :meth:`YamlDocument.line_of`, and
:func:`problems_from_validation` turns a pydantic error into one actionable line per problem.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from auditor.errors import Problem

__all__ = ["YamlDocument", "format_loc", "load_yaml", "problems_from_validation"]

#: Default cap on nodes built from one document, aliases counted once per expansion.
MAX_NODES = 1_000_000
#: Deepest nesting of mappings and lists accepted.
MAX_DEPTH = 100

_YAML_TAG = "tag:yaml.org,2002:"
_MAP_TAG = _YAML_TAG + "map"
_SEQ_TAG = _YAML_TAG + "seq"
_MERGE_TAG = _YAML_TAG + "merge"
_SCALAR_TAGS = frozenset(
    _YAML_TAG + name for name in ("null", "bool", "int", "float", "str", "timestamp")
)

_MAPPING_ARITY = 2  # dict[K, V]
_MAX_LISTED_CHOICES = 12

Loc = tuple[Any, ...]


@dataclass(frozen=True)
class YamlDocument:
    """Plain data loaded from one YAML file, with the line of every key and list item."""

    data: Any
    file: str
    lines: Mapping[Loc, int] = field(default_factory=dict, repr=False, compare=False)

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """Return the 1-based line of the node at ``loc``, or of its nearest existing ancestor."""
        path = tuple(loc)
        while True:
            line = self.lines.get(path)
            if line is not None:
                return line
            if not path:
                return None
            path = path[:-1]


class _YamlProblemError(Exception):
    """Stops loading a document; carries the (line, message) problems to report."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.problems: list[tuple[int | None, str]] = [(line, message)]

    @classmethod
    def many(cls, problems: Sequence[tuple[int | None, str]]) -> _YamlProblemError:
        exc = cls(*problems[0])
        exc.problems = list(problems)
        return exc


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_YAML_TAG) if tag.startswith(_YAML_TAG) else tag


class _Builder:
    """Turns a composed node graph into plain Python data, recording lines and problems."""

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.problems: list[tuple[int | None, str]] = []

    def build(self, node: yaml.Node, path: Loc, lines: dict[Loc, int]) -> Any:
        """Build ``node``; :func:`_measure` has already bounded its size and ruled out cycles."""
        if isinstance(node, yaml.SequenceNode):
            return self._sequence(node, path, lines)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, lines)
        return self._scalar(node)

    def _reject_tag(self, node: yaml.Node) -> None:
        self.problems.append(
            (
                _line(node),
                f"tag '{_short_tag(node.tag)}' is not allowed; only plain mappings, lists, "
                "strings, numbers, booleans, null and dates are accepted",
            )
        )

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag not in _SCALAR_TAGS:
            self._reject_tag(node)
            return None
        try:
            return self.loader.yaml_constructors[node.tag](self.loader, node)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            self.problems.append((_line(node), f"invalid {_short_tag(node.tag)} value: {exc}"))
            return None

    def _sequence(self, node: yaml.SequenceNode, path: Loc, lines: dict[Loc, int]) -> list[Any]:
        if node.tag != _SEQ_TAG:
            self._reject_tag(node)
            return []
        items: list[Any] = []
        for index, child in enumerate(node.value):
            lines[(*path, index)] = _line(child)
            items.append(self.build(child, (*path, index), lines))
        return items

    def _key(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            self.problems.append((_line(node), "mapping keys must be plain scalars"))
            return None
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: Loc, lines: dict[Loc, int]) -> dict[Any, Any]:
        if node.tag != _MAP_TAG:
            self._reject_tag(node)
            return {}
        result: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            key = self._key(key_node)
            if key in first_line:
                self.problems.append(
                    (
                        _line(key_node),
                        f"duplicate key '{key}' (first defined at line {first_line[key]}); "
                        "keep only one",
                    )
                )
                continue
            first_line[key] = _line(key_node)
            lines[(*path, key)] = _line(key_node)
            result[key] = self.build(value_node, (*path, key), lines)
        for merge in merges:
            self._merge(merge, path, lines, result)
        return result

    def _merge(
        self, node: yaml.Node, path: Loc, lines: dict[Loc, int], into: dict[Any, Any]
    ) -> None:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                self.problems.append((_line(source), "'<<' merges only mappings"))
                continue
            merged_lines: dict[Loc, int] = {}
            merged = self._mapping(source, path, merged_lines)
            for key, value in merged.items():
                if key in into:
                    continue
                into[key] = value
                for loc, line in merged_lines.items():
                    if loc[len(path)] == key:
                        lines[loc] = line


def _measure(
    node: yaml.Node, limit: int, memo: dict[int, int], active: set[int], depth: int
) -> int:
    """Count the values ``node`` expands to, aliases included, without building anything."""
    known = memo.get(id(node))
    if known is not None:
        return known
    if isinstance(node, yaml.ScalarNode):
        return 1
    if depth >= MAX_DEPTH:
        raise _YamlProblemError(
            _line(node), f"nested more than {MAX_DEPTH} levels deep; flatten it"
        )
    if id(node) in active:
        raise _YamlProblemError(
            _line(node), "recursive alias: a value contains itself; remove the alias"
        )
    active.add(id(node))
    children: list[yaml.Node] = []
    for item in node.value:
        children.extend(item if isinstance(item, tuple) else (item,))
    total = 1
    for child in children:
        total += _measure(child, limit, memo, active, depth + 1)
        if total > limit:
            raise _YamlProblemError(
                _line(child),
                f"document expands to more than {limit:,} values (alias bomb?); "
                "remove the repeated aliases",
            )
    active.discard(id(node))
    memo[id(node)] = total
    return total


def _read_text(path: str | Path, text: str | None, max_bytes: int) -> str:
    too_large = f"file is larger than {max_bytes:,} bytes; split it"
    if text is not None:
        if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
            raise _YamlProblemError(None, too_large)
        return text
    try:
        with Path(path).open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise _YamlProblemError(None, f"cannot read file: {reason}") from None
    if len(raw) > max_bytes:
        raise _YamlProblemError(None, too_large)
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise _YamlProblemError(line, "file is not valid UTF-8; re-save it as UTF-8") from None
    return decoded.removeprefix("\ufeff")


def _compose(loader: yaml.SafeLoader) -> yaml.Node | None:
    try:
        return loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark is not None else None
        what = exc.problem or exc.context or "invalid YAML"
        raise _YamlProblemError(line, f"YAML syntax error: {what}") from None
    except yaml.YAMLError as exc:
        raise _YamlProblemError(None, f"YAML error: {exc}") from None
    except RecursionError:
        raise _YamlProblemError(None, "YAML nested too deeply; flatten it") from None


#: LibYAML's parser when PyYAML was built with it (the PyPI wheels are): composing the shipped
#: packs takes about a tenth of the pure-Python parser's time, which keeps
#: ``auditor check --declaration-only`` interactive. Both compose the same nodes and marks.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse(text: str, file: str, max_nodes: int) -> YamlDocument:
    loader = _LOADER(text)
    try:
        node = _compose(loader)
        lines: dict[Loc, int] = {}
        if node is None:
            return YamlDocument(None, file, lines)
        lines[()] = _line(node)
        _measure(node, max_nodes, {}, set(), 0)
        builder = _Builder(loader)
        data = builder.build(node, (), lines)
        if builder.problems:
            raise _YamlProblemError.many(builder.problems)
        return YamlDocument(data, file, lines)
    finally:
        loader.dispose()


def load_yaml(
    path: str | Path,
    *,
    error: Callable[[list[Problem]], Exception],
    text: str | None = None,
    max_bytes: int = 5 * 1024 * 1024,
    max_nodes: int = MAX_NODES,
) -> YamlDocument:
    """Load one YAML document safely; raise ``error([Problem, ...])`` on any problem.

    ``error`` is the caller's problems exception class (``PolicyError``, ``ConfigError``);
    ``text`` supplies the content directly, and ``path`` then only names it in problems.
    """
    file = str(path)
    try:
        return _parse(_read_text(path, text, max_bytes), file, max_nodes)
    except _YamlProblemError as exc:
        raise error([Problem(file, line, message) for line, message in exc.problems]) from None


# --------------------------------------------------------------------------- validation errors

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_loc(loc: Sequence[Any]) -> str:
    """Render a data path like ``rules[2].fail_when.all[0]`` for messages."""
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif isinstance(part, str) and _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out or "top level"


def _data_path(data: Any, loc: Sequence[Any]) -> Loc:
    """Keep the parts of a pydantic ``loc`` that exist in the data (drops union tags)."""
    path: list[Any] = []
    current = data
    for index, part in enumerate(loc):
        in_map = isinstance(current, Mapping) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_map or in_list:
            current = current[part]
        elif index == len(loc) - 1:
            path.append(part)
            break
        else:
            continue
        path.append(part)
    return tuple(path)


def _unwrap(tp: Any) -> list[Any]:
    """List the alternatives of ``tp``, with ``Annotated`` and unions taken apart."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [alt for arg in typing.get_args(tp) for alt in _unwrap(arg)]
    return [tp]


def _step(tp: Any, part: Any) -> list[Any]:
    """Types reachable from ``tp`` by one path element."""
    found: list[Any] = []
    for alt in _unwrap(tp):
        origin, args = typing.get_origin(alt), typing.get_args(alt)
        if isinstance(alt, type) and issubclass(alt, BaseModel):
            found.extend(
                info.annotation
                for name, info in alt.model_fields.items()
                if part in (name, info.alias)
            )
        elif origin in (list, tuple, set, frozenset, Sequence) and args:
            found.append(args[0])
        elif origin in (dict, Mapping) and len(args) == _MAPPING_ARITY:
            found.append(args[1])
    return found


def _models(tp: Any) -> list[type[BaseModel]]:
    return [alt for alt in _unwrap(tp) if isinstance(alt, type) and issubclass(alt, BaseModel)]


def allowed_keys(model: type[BaseModel], path: Sequence[Any]) -> list[str]:
    """Field names and aliases accepted by the sub-model of ``model`` found at ``path``."""
    current: list[Any] = [model]
    for part in path:
        current = [found for tp in current for found in _step(tp, part)]
    names: dict[str, None] = {}
    for tp in current:
        for sub in _models(tp):
            for name, info in sub.model_fields.items():
                names[info.alias or name] = None
    return list(names)


def _closest(word: object, choices: Sequence[str]) -> str | None:
    match = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return match[0] if match else None


def _unknown_key(key: object, choices: Sequence[str]) -> str:
    match = _closest(key, choices)
    if match:
        return f"unknown key '{key}' (did you mean '{match}'?)"
    if choices and len(choices) <= _MAX_LISTED_CHOICES:
        return f"unknown key '{key}'; expected one of: " + ", ".join(choices)
    return f"unknown key '{key}'"


_KINDS_OF_INPUT = {type(None): "nothing", list: "a list", str: "a string", bool: "a boolean"}


def _other_error(err: Any, where: str) -> str:
    if err["type"] in ("model_type", "dict_type"):
        got = _KINDS_OF_INPUT.get(type(err.get("input")), "a single value")
        return f"{where}: expected a mapping of keys to values, got {got}"
    message = f"{where}: {err['msg']}"
    expected = (err.get("ctx") or {}).get("expected")
    if err["type"] in ("enum", "literal_error") and isinstance(expected, str):
        match = _closest(err.get("input"), re.findall(r"'([^']*)'", expected))
        if match:
            message += f" (did you mean '{match}'?)"
    elif "input" in err and not isinstance(err["input"], Mapping | list):
        message += f" (got {err['input']!r})"
    return message


def _ends_in_branch_tag(data: Any, path: Loc, model: type[BaseModel]) -> bool:
    """Whether ``path`` ends in a union branch tag (``'one'``, ``"literal[...]"``), not a key.

    A string after a scalar or a list cannot be a key of the data; unless the model has a field
    of that name there (``targets[0].url`` written as a bare URL), it names a union branch.
    """
    if not path or not isinstance(path[-1], str):
        return False
    parent = data
    for part in path[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return False
    return not isinstance(parent, Mapping) and path[-1] not in allowed_keys(model, path[:-1])


def problems_from_validation(
    exc: ValidationError,
    doc: YamlDocument,
    *,
    model: type[BaseModel] | None = None,
    at: Sequence[str | int] = (),
) -> list[Problem]:
    """Turn each pydantic error into a located, one-line :class:`Problem`, sorted by line.

    ``at`` is the path of the validated value inside ``doc`` when only part of the document was
    validated (for example one rule of a pack). A "missing key" error is dropped when an unknown
    key next to it is a likely misspelling of it: the suggestion already says what to do.
    """
    base = doc.data
    for part in at:
        base = base[part] if isinstance(base, Mapping | list) else None  # type: ignore[index]
    found: list[tuple[str, Loc, str]] = []  # (error type, full path, message)
    explained: set[Loc] = set()  # missing keys that an unknown key probably misspells
    for err in exc.errors():
        path = _data_path(base, err["loc"])
        if model is not None and _ends_in_branch_tag(base, path, model):
            path = path[:-1]
        full = (*at, *path)
        kind = err["type"] if path else "other"
        if kind == "extra_forbidden":
            choices = allowed_keys(model, path[:-1]) if model else []
            found.append(
                (kind, full, f"{format_loc(full[:-1])}: {_unknown_key(path[-1], choices)}")
            )
            explained.add((*full[:-1], _closest(path[-1], choices)))
        elif kind == "missing":
            found.append(
                (kind, full, f"{format_loc(full[:-1])}: missing required key '{path[-1]}'")
            )
        else:
            found.append((kind, full, _other_error(err, format_loc(full))))
    problems = [
        Problem(doc.file, doc.line_of(full), message)
        for kind, full, message in found
        if kind != "missing" or full not in explained
    ]
    return sorted(problems, key=lambda p: -1 if p.line is None else p.line)
