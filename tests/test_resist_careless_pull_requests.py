"""What a hostile or careless pull request still got through (hardening, round three): reads
through symlinks, hangs, wrong verdicts and confusing messages. Each test runs the plugin or the
`evalmix` command as a user does and is named by the behaviour it checks; the sections follow the
order of the defects in docs/checks.md's hardening notes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import run

FIXTURES = Path(__file__).parent / "fixtures"


def manifest(project: pytest.Pytester, body: str, name: str = "evals") -> Path:
    path = project.path / f"{name}.evalmix.yaml"
    path.write_text(f"evalmix: 1\n{body}", encoding="utf-8")
    return path


def clean(result: pytest.RunResult) -> str:
    """The run's whole output, which must hold no traceback and no raw control character."""
    out = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in out and "INTERNALERROR" not in out, out
    assert "this is a bug" not in out, out
    for char in ("\x1b", "\x07"):
        assert char not in out, f"{char!r} reached the output raw"
    return out


def saved_folder(project: pytest.Pytester) -> Path:
    """A copy of the `save_to_disk` fixture in data/saved."""
    pytest.importorskip("pyarrow")
    target = project.path / "data" / "saved"
    shutil.copytree(FIXTURES / "hf" / "saved", target)
    return target


# -- reads, hangs and wrong verdicts -----------------------------------------------------------


@pytest.mark.parametrize("linked", ["data-00000-of-00001.arrow", "state.json"])
def test_a_saved_dataset_folder_never_reads_through_a_symlink_out_of_the_rootdir(
    project: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory, linked: str
) -> None:
    folder = saved_folder(project)
    outside = tmp_path_factory.mktemp("outside") / linked
    shutil.copyfile(folder / linked, outside)
    (folder / linked).unlink()
    (folder / linked).symlink_to(outside)
    manifest(project, "data: [data/saved]\n")
    result = run(project, "--evalmix")
    out = clean(result)
    result.stdout.fnmatch_lines(
        [
            f"data/saved:1: -: not a readable Hugging Face dataset folder: its {linked} is a "
            "symlink that leads out of the folder*"
        ]
    )
    assert str(outside) not in out
    assert result.ret == 1


def test_a_state_json_nested_100000_deep_is_one_finding(project: pytest.Pytester) -> None:
    folder = saved_folder(project)
    (folder / "state.json").write_text("[" * 100_000, encoding="utf-8")
    manifest(project, "data: [data/saved]\n")
    result = run(project, "--evalmix")
    clean(result)
    result.stdout.fnmatch_lines(
        [
            "data/saved:1: -: not a readable Hugging Face dataset folder: its state.json is JSON "
            "nested too deeply*"
        ]
    )
    assert result.ret == 1
