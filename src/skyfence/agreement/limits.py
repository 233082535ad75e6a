"""Bounds on what an agreement file may be, checked before any of it is built: an answer in well under a
second, whatever the file.

An agreement is a few kilobytes of YAML and GeoJSON files of a few megabytes. A file far larger, nested
far deeper, or whose YAML aliases expand into millions of values (a "billion laughs" built from anchors)
is refused with one line, before validation or geometry could spend minutes and gigabytes on it.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

MAX_YAML_BYTES = 4 << 20
MAX_GEOJSON_BYTES = 64 << 20
MAX_DEPTH = 40  # nested mappings and lists in the YAML, aliases expanded
MAX_VALUES = 1_000_000  # values in the YAML once aliases are expanded
MAX_GEOMETRY_DEPTH = 6  # GeometryCollections inside GeometryCollections


class LimitError(ValueError):
    """A document beyond the bounds; the text says which."""


def read_text(path: Path, limit: int) -> str:
    """A UTF-8 file of at most ``limit`` bytes."""
    size = path.stat().st_size
    if size > limit:
        raise LimitError(f"{size / 1e6:.1f} MB is larger than an agreement file can be ({limit >> 20} MB)")
    return path.read_text(encoding="utf-8")


def load_yaml(text: str) -> object:
    """YAML (safe types only) within ``MAX_DEPTH`` and ``MAX_VALUES``; raises LimitError or yaml.YAMLError."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else loader.construct_document(node)
    except RecursionError:
        raise LimitError(f"nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()


def load_json(text: str) -> object:
    """JSON within the interpreter's nesting limit; raises LimitError or ValueError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise LimitError("GeoJSON nested too deeply") from None


def check_geometry_depth(data: object) -> None:
    """GeoJSON whose GeometryCollections nest at most ``MAX_GEOMETRY_DEPTH`` deep."""
    stack = [(data, 0)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict):
            continue
        children = []
        if item.get("type") == "GeometryCollection":
            depth += 1
            if depth > MAX_GEOMETRY_DEPTH:
                raise LimitError(f"GeometryCollections nested more than {MAX_GEOMETRY_DEPTH} deep")
            children = item.get("geometries") or []
        elif item.get("type") == "FeatureCollection":
            children = item.get("features") or []
        elif item.get("type") == "Feature":
            children = [item.get("geometry")]
        if isinstance(children, list):
            stack.extend((c, depth) for c in children)


class _BoundedLoader(yaml.SafeLoader):
    """A safe loader that measures every node as it is composed: its depth and its size with aliases
    expanded, so that a document beyond the bounds stops before it is built."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._depth = 0
        self._measure: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth), aliases expanded

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            target = self.anchors.get(self.peek_event().anchor)
            if target is not None and id(target) not in self._measure:
                raise LimitError("an alias refers to a collection that holds it (a cycle)")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise LimitError(f"nested more than {MAX_DEPTH} levels deep")
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if id(node) not in self._measure:
            self._measure[id(node)] = self._size(node)
        return node

    def construct_mapping(self, node, deep=False):
        """A mapping whose keys are each given once (YAML keeps the last of two, and a second ``floor:`` in a
        zone would silently win)."""
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, (str, int, float, bool)) and key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"{key!r} is given twice (first on line {seen[key] + 1}): give it once",
                        key_node.start_mark)
                if isinstance(key, (str, int, float, bool)):
                    seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)

    def _size(self, node) -> tuple[int, int]:
        if isinstance(node, yaml.ScalarNode):
            return 1, 1
        children = node.value if isinstance(node, yaml.SequenceNode) else [n for kv in node.value for n in kv]
        values, depth = 1, 1
        for child in children:
            m = self._measure[id(child)]
            values += m[0]
            depth = max(depth, m[1] + 1)
        if values > MAX_VALUES:
            raise LimitError(f"its aliases expand to more than {MAX_VALUES:,} values")
        if depth > MAX_DEPTH:
            raise LimitError(f"nested more than {MAX_DEPTH} levels deep (aliases expanded)")
        return values, depth
