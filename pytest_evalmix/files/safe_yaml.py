"""Safe YAML with line numbers, bounded aliases and no code-running tags.

Eval-set YAML comes from pull requests, so it is hostile input: only the safe constructors are
used, ``!!python/...`` and every other non-standard tag is refused by name, and the size that
aliases would expand to is computed on the node graph before anything is built, so a "billion
laughs" file fails in microseconds instead of eating the CI runner's memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STANDARD_TAGS = {
    "tag:yaml.org,2002:" + name
    for name in (
        "null",
        "bool",
        "int",
        "float",
        "str",
        "seq",
        "map",
        "timestamp",
        "binary",
        "merge",
    )
}

# Legit files reuse anchors a little; an alias bomb multiplies by orders of magnitude.
EXPANSION_LIMIT = 1_000_000
EXPANSION_FACTOR = 10


class YamlError(ValueError):
    """YAML that cannot be used, with the 1-based line where the trouble is."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe loading where timestamps stay strings, so every value is plain JSON data."""


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_str)


def compose(stream: str | bytes | IO[str] | IO[bytes]) -> Node | None:
    """Parse one YAML document into its node graph, translating errors into `YamlError`."""
    loader = _Loader(stream)
    try:
        node: Node | None = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(f"malformed YAML: {problem}", line) from None
    except yaml.YAMLError as exc:  # e.g. a reader error on a control character
        raise YamlError(f"malformed YAML: {exc}", 1) from None
    finally:
        loader.dispose()
    if node is not None:
        _check_graph(node)
    return node


# Deeper than any real record; far below what recursing per level can take.
MAX_DEPTH = 200


def line_of(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _check_graph(root: Node) -> None:
    """Refuse unknown tags, recursive aliases and alias expansion beyond the bounds.

    Both bounds are on the data as it will be built, aliases expanded: its size, and its depth.
    Each node is walked once and its expanded size and height remembered, so a chain of aliases
    (``a1: &a1 [*a0]``, ``a2: &a2 [*a1]``, …) is measured in time linear in the file, and
    refused for the depth it would build, not the depth at which it is written.
    """
    sizes: dict[int, int] = {}
    heights: dict[int, int] = {}
    visiting: set[int] = set()
    distinct = 0

    def too_deep(node: Node) -> YamlError:
        # Constructing and walking the data recurse once per level: refuse here, cleanly,
        # long before Python's recursion limit would.
        return YamlError(
            f"YAML nested more than {MAX_DEPTH} levels deep (aliases expanded)", line_of(node)
        )

    def size(node: Node, depth: int = 0) -> int:
        nonlocal distinct
        key = id(node)
        if key in sizes:
            if depth + heights[key] > MAX_DEPTH:
                raise too_deep(node)
            return sizes[key]
        if depth > MAX_DEPTH:
            raise too_deep(node)
        if key in visiting:
            raise YamlError("recursive alias: an anchor refers to itself", line_of(node))
        tag = str(node.tag)
        if tag not in _STANDARD_TAGS:
            kind = "code-running tag" if tag.startswith("tag:yaml.org,2002:python/") else "tag"
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            raise YamlError(f"{kind} {shown} refused: only plain YAML data is read", line_of(node))
        visiting.add(key)
        distinct += 1
        total = 1
        height = 0
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        for child in children:
            total += size(child, depth + 1)
            height = max(height, heights[id(child)] + 1)
        visiting.discard(key)
        sizes[key] = total
        heights[key] = height
        return total

    expanded = size(root)
    if expanded > EXPANSION_LIMIT + EXPANSION_FACTOR * distinct:
        raise YamlError(
            f"aliases expand {distinct} nodes to {expanded}: refused as an alias bomb",
            line_of(root),
        )


def construct(node: Node) -> Any:
    """Build plain Python data from a checked node."""
    loader = _Loader("")
    try:
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else line_of(node)
        raise YamlError(f"invalid YAML value: {exc.problem or exc.context}", line) from None
    except (ValueError, KeyError, IndexError, OverflowError, RecursionError) as exc:
        # PyYAML's own constructors fail this way on a standard tag with a value that is not of
        # its type (`!!int abc`, `!!bool maybe`, `!!int ""`) or a plain integer too long to read.
        detail = str(exc).split(";")[0][:100]
        raise YamlError(
            f"invalid YAML value ({type(exc).__name__}: {detail}): a tagged value that is not "
            "of its type, or a number too long to read",
            _failing_line(node),
        ) from None
    finally:
        loader.dispose()


def _failing_line(root: Node) -> int:
    """The line of the first scalar that cannot be built (``!!int abc`` at line 45 is reported
    at line 45, not at the top of its document). Only a failed load pays for this."""
    loader = _Loader("")
    stack, seen = [root], set()
    try:
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, ScalarNode):
                try:
                    loader.construct_object(node)
                except Exception:
                    return line_of(node)
            elif isinstance(node, SequenceNode):
                stack.extend(reversed(node.value))
            elif isinstance(node, MappingNode):
                stack.extend(part for pair in reversed(node.value) for part in reversed(pair))
    finally:
        loader.dispose()
    return line_of(root)


def key_lines(
    node: Node, prefix: tuple[Any, ...] = (), seen: set[int] | None = None
) -> Iterator[tuple[tuple[Any, ...], int]]:
    """Yield (key path, line) for every mapping key and sequence item, to point at a setting.

    A node reached again through an alias is not walked again: its lines are the anchor's, and
    walking every expanded path of an alias-heavy file would cost far more than reading it.
    """
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode):
                path = (*prefix, key_node.value)
                yield path, line_of(key_node)
                yield from key_lines(value_node, path, seen)
    elif isinstance(node, SequenceNode):
        for index, child in enumerate(node.value):
            path = (*prefix, index)
            yield path, line_of(child)
            yield from key_lines(child, path, seen)
