"""`evalmix schema example|manifest|results` (docs/cli.md): JSON Schemas for editors, generated from
the models, that accept the example project's files and reject what the loader rejects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from conftest import WriteSet, healthy, run
from test_review_a_queue import evalmix

EXAMPLE = Path(__file__).parent.parent / "example_project"
EVALS = EXAMPLE / "evals"


def schema(kind: str, *flags: str) -> jsonschema.Draft202012Validator:
    done = evalmix(EXAMPLE, "schema", kind, *flags)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(data)
    return jsonschema.Draft202012Validator(data)


def yaml_file(path: Path) -> Any:
    """YAML as an editor's language server reads it (YAML 1.2): dates stay strings."""
    return json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))


def errors(validator: jsonschema.Draft202012Validator, instance: Any) -> list[str]:
    return [error.message for error in validator.iter_errors(instance)]


def test_the_schemas_accept_the_example_project() -> None:
    manifest, record, record_file = (
        schema("manifest"),
        schema("example"),
        schema("example", "--file"),
    )
    data = yaml_file(EVALS / "support.evalmix.yaml")
    assert errors(manifest, data) == []
    assert data["examples"] and all(errors(record, rec) == [] for rec in data["examples"])

    jsonl = (EVALS / "data" / "production.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(jsonl) == 20
    assert all(errors(record, json.loads(line)) == [] for line in jsonl)

    yaml_files = sorted((EVALS / "data").glob("*.yaml"))
    assert len(yaml_files) == 2
    for path in yaml_files:
        assert errors(record_file, yaml_file(path)) == [], path


def test_the_schemas_reject_what_the_loader_rejects() -> None:
    manifest, record, results = schema("manifest"), schema("example"), schema("results")
    good = {
        "id": "x",
        "input": "a ticket",
        "gold": "billing",
        "origin": "production",
        "label": {"source": "human"},
    }
    assert errors(record, good) == []
    assert errors(record, {**good, "orgin": "production"}) == [
        "Additional properties are not allowed ('orgin' was unexpected)"
    ]
    assert errors(record, {**good, "origin": "prod"}) == [
        "'prod' is not one of ['production', 'synthetic', 'adversarial']"
    ]
    assert errors(record, {**good, "label": {"source": "gpt"}}) == [
        "'gpt' is not one of ['human', 'programmatic', 'llm']"
    ]
    # The manifest's policy gets the policy's own schema, unknown keys included.
    assert errors(manifest, {"evalmix": 1, "policy": {"mix": {"tolerance": 0.05}}}) == []
    assert errors(manifest, {"evalmix": 1, "policy": {"mix": {"tolerence": 0.05}}}) == [
        "Additional properties are not allowed ('tolerence' was unexpected)"
    ]
    assert errors(manifest, {"evalmix": 2}) == ["1 was expected"]
    assert errors(results, {"id": "x", "passed": "yes"}) == ["'yes' is not of type 'boolean'"]


def test_the_results_schema_accepts_the_results_the_plugin_writes(
    project: pytest.Pytester, write_set: WriteSet
) -> None:
    write_set(healthy())
    project.makepyfile(
        test_evals="""
        import pytest
        from pytest_evalmix import examples

        @pytest.mark.parametrize("example", examples("support.evalmix.yaml"))
        def test_eval(example, evalmix_failure_mode):
            if example.id == "prod-0":
                evalmix_failure_mode("wrong-queue")
                assert False
        """
    )
    run(project, "--evalmix")
    written = (project.path / ".evalmix" / "results" / "support.jsonl").read_text().splitlines()
    assert len(written) == 20
    results = schema("results")
    assert all(errors(results, json.loads(line)) == [] for line in written)


def test_file_is_for_record_files_only() -> None:
    done = evalmix(EXAMPLE, "schema", "manifest", "--file")
    assert done.returncode == 2
    assert "error: --file applies to example only" in done.stderr
    assert evalmix(EXAMPLE, "schema", "exampel").returncode == 2


def test_the_readme_shows_the_editor_line() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert "# yaml-language-server: $schema=" in readme
    assert "evalmix schema manifest > " in readme
