"""`tests/structure.py`, the layout rules of docs/architecture.md: each rule fails on a package
that breaks it, and the real package keeps every one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from structure import PACKAGE, problems

ROOT = Path(__file__).resolve().parent.parent


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "tests").mkdir(exist_ok=True)
    (root / "README.md").write_text("# a project\n")


def test_the_package_keeps_every_rule() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "structure.py")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith("structure: 0 problem(s)")


def test_a_circle_through_a_lazy_import_is_found(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "__init__.py": "",
            "model/__init__.py": "",
            "model/a.py": "def f():\n    from pytest_evalmix.model import b\n",
            "model/b.py": "from pytest_evalmix.model import a\n",
        },
    )
    assert problems(tmp_path) == [
        f"{PACKAGE}/model/a.py:1: import circle: {PACKAGE}.model.a -> {PACKAGE}.model.b"
    ]


def test_an_import_up_the_layers_is_found(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "__init__.py": "",
            "model/__init__.py": "",
            "model/a.py": "from pytest_evalmix.checks import b\n",
            "checks/__init__.py": "",
            "checks/b.py": "X = 1\n",
        },
    )
    assert problems(tmp_path) == [
        f"{PACKAGE}/model/a.py:1: model imports checks, a layer that is not below it"
    ]


def test_private_names_of_other_modules_are_found(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "__init__.py": "",
            "files/__init__.py": "",
            "files/a.py": "_secret = 1\n",
            "files/b.py": (
                "from pytest_evalmix.files import a\n"
                "from pytest_evalmix.files.a import _secret\n"
                "x = a._secret\n"
                "def f(thing):\n    return thing._hidden\n"
            ),
        },
    )
    assert problems(tmp_path) == [
        f"{PACKAGE}/files/b.py:2: uses {PACKAGE}.files.a._secret, a private name",
        f"{PACKAGE}/files/b.py:3: uses {PACKAGE}.files.a._secret, a private name",
        f"{PACKAGE}/files/b.py:5: uses ._hidden, a private name defined elsewhere",
    ]


def test_size_names_and_citations_are_found(tmp_path: Path) -> None:
    modules = {f"state/m{n}.py": "" for n in range(13)}
    write(
        tmp_path,
        {
            "__init__.py": "",
            "state/__init__.py": "",
            **modules,
            "files/__init__.py": "",
            "files/m0.py": "x = 1\n" * 601,
            "model/__init__.py": '"""See SPEC \u00a73."""\n',
        },
    )
    found = problems(tmp_path)
    assert f"{PACKAGE}/files/m0.py:1: 601 lines, over 600" in found
    assert f"{PACKAGE}/state:1: 13 modules, over 12" in found
    assert any("2 modules named m0.py" in line for line in found)
    assert f"{PACKAGE}/model/__init__.py:1: cites the SPEC; cite docs/" in found
