"""Reading YAML while remembering where each value stood, so errors can name the line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Marked:
    """A parsed document and the 1-based line of every value in it, by path."""

    data: Any
    lines: Mapping[Path, int]
    duplicates: tuple[tuple[Path, int], ...] = field(default=())

    def line(self, path: Path) -> int | None:
        """The line of `path`, or of its nearest enclosing value that has one."""
        for end in range(len(path), -1, -1):
            if (line := self.lines.get(path[:end])) is not None:
                return line
        return None


def read_marked(text: str, source: str) -> Marked:
    """Parse one YAML document with the safe loader; syntax errors raise ValueError with a line."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ValueError(f"{source}{line}: not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    lines: dict[Path, int] = {}
    duplicates: list[tuple[Path, int]] = []
    if node is not None:
        _walk(node, (), lines, duplicates)
    return Marked(data, lines, tuple(duplicates))


def _walk(
    node: yaml.Node, path: Path, lines: dict[Path, int], duplicates: list[tuple[Path, int]]
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                duplicates.append(((*path, key), key_node.start_mark.line + 1))
            seen.add(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines, duplicates)
