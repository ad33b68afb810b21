"""The package's structure rules, measured from the source with `ast` (docs/architecture.md).

Run by ``make test`` (``python tests/structure.py``); exits 1 and names each breach. The rules:

- imports run one way, from the entry points down to ``model`` and ``errors`` (`LAYERS`), and
  there is no import circle, not even through a lazy import, a ``TYPE_CHECKING`` block or a
  package ``__init__``;
- no module uses another module's ``_private`` name (imported or as ``module._name``);
- no module is over `MAX_LINES` lines, and no folder holds over `MAX_MODULES` modules;
- no two modules share a file name;
- no text in the package, the tests or the docs cites a section of the SPEC (users have no SPEC: docstrings
  point to ``docs/``).

`problems` takes the repository root, so the tests can run it on a small package of their own.
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "pytest_evalmix"
MAX_LINES = 600
MAX_MODULES = 12
CITATION = "SPEC " + "\u00a7"  # spelled so that this file does not cite it

# Each top-level part of the package, by layer: a module may import its own folder, or a folder
# of a lower layer, never a higher one. The package ``__init__`` (the public names) is the top.
LAYERS: dict[str, int] = {
    "model": 0,
    "errors": 1,
    "files": 2,
    "formats": 3,
    "checkers": 4,
    "evalset": 4,
    "results": 5,
    "revisions": 5,
    "state": 5,
    "checks": 6,
    "report": 7,
    "synth": 7,
    "review": 8,
    "pytest_plugin": 9,
    "cli": 10,
    "": 11,
}


def modules(root: Path) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, str, int]]:
    """``(module imported, name taken from it or "", line)`` for every import in the module,
    wherever it stands: at the top, in a function, under ``TYPE_CHECKING``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    yield alias.name, "", node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                if path.name != "__init__.py":
                    base.pop()
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            if source.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                if f"{source}.{alias.name}" in known:
                    yield f"{source}.{alias.name}", "", node.lineno
                else:
                    yield source, alias.name, node.lineno


def _private_attributes(path: Path, known: dict[str, Path]) -> Iterator[tuple[str, str, int]]:
    """``module._name`` where ``module`` is a name bound to one of the package's modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in known:
                    bound[alias.asname or alias.name] = full
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known and alias.asname:
                    bound[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in bound
            and _private(node.attr)
        ):
            yield bound[node.value.id], node.attr, node.lineno


def _foreign_private_attributes(path: Path) -> Iterator[tuple[str, int]]:
    """``thing._name`` where nothing in this module defines ``_name``: another module's private
    attribute, reached through an object (``evalset._sources``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    defined: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            defined.add(node.attr)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined.add(node.target.id)
        elif isinstance(node, ast.alias):
            defined.add((node.asname or node.name).split(".")[0])
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and _private(node.attr)
            and node.attr not in defined
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            yield node.attr, node.lineno


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _folder(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def problems(root: Path) -> list[str]:
    """Every breach of the rules, as ``path:line: what is wrong``, sorted."""
    known = modules(root)
    found: list[str] = []
    edges: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        shown = path.relative_to(root)
        for target, taken, line in _imports(name, path, known):
            if target not in known:
                found.append(f"{shown}:{line}: imports {target}, which does not exist")
                continue
            if target != name:
                edges[name].add(target)
            if taken and _private(taken):
                found.append(f"{shown}:{line}: uses {target}.{taken}, a private name")
            mine, theirs = _folder(name), _folder(target)
            if mine != theirs and LAYERS.get(theirs, 99) >= LAYERS.get(mine, 99):
                found.append(
                    f"{shown}:{line}: {mine or PACKAGE} imports {theirs or PACKAGE},"
                    " a layer that is not below it"
                )
        for target, attribute, line in _private_attributes(path, known):
            if target != name:
                found.append(f"{shown}:{line}: uses {target}.{attribute}, a private name")
        for attribute, line in _foreign_private_attributes(path):
            found.append(f"{shown}:{line}: uses .{attribute}, a private name defined elsewhere")
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            found.append(f"{shown}:1: {lines} lines, over {MAX_LINES}")
    for cycle in _cycles(edges):
        found.append(f"{known[cycle[0]].relative_to(root)}:1: import circle: {' -> '.join(cycle)}")
    folders = Counter(path.parent for path in known.values() if path.name != "__init__.py")
    for folder, count in sorted(folders.items()):
        if count > MAX_MODULES:
            found.append(f"{folder.relative_to(root)}:1: {count} modules, over {MAX_MODULES}")
    names = Counter(path.name for path in known.values() if path.name != "__init__.py")
    for file_name, count in sorted(names.items()):
        if count > 1:
            where = sorted(str(p.relative_to(root)) for p in known.values() if p.name == file_name)
            found.append(f"{where[0]}:1: {count} modules named {file_name}: {', '.join(where)}")
    texts = [*(root / PACKAGE).rglob("*.py"), *(root / "tests").rglob("*.py")]
    texts += [*(root / "docs").rglob("*.md"), root / "README.md"]
    for text in sorted(path for path in texts if path.is_file()):
        for number, content in enumerate(text.read_text(encoding="utf-8").splitlines(), 1):
            if CITATION in content:
                found.append(f"{text.relative_to(root)}:{number}: cites the SPEC; cite docs/")
    return sorted(found)


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    found = problems(root)
    for line in found:
        print(line)
    print(f"structure: {len(found)} problem(s) in {len(modules(root))} modules")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
