"""``evalmix schema``: the JSON Schemas of a manifest and of records, for editors (docs/cli.md)."""

from __future__ import annotations

import argparse
import json
from typing import Any

SCHEMAS = ("example", "manifest", "results")


def schema_of(kind: str, *, file: bool = False) -> dict[str, Any]:
    """The JSON Schema of a format, generated from the models the loader validates with.

    The manifest's ``policy`` is typed as a free mapping in `Manifest` (the loader checks it key
    by key, to say where a wrong key is); here it gets the policy's own schema so an editor can
    complete and check it too.
    """
    from pytest_evalmix.model.policy import Policy
    from pytest_evalmix.model.records import Example, Manifest, Result

    if kind == "example":
        schema = Example.model_json_schema()
        if file:
            record = {"$ref": "#/$defs/Example"}
            defs = schema.pop("$defs", {})
            defs["Example"] = schema
            schema = {
                "title": "pytest-evalmix record file",
                "description": "A YAML or JSON record file: a list of records, or a mapping "
                "with examples:",
                "anyOf": [
                    {"type": "array", "items": record},
                    {
                        "type": "object",
                        "properties": {"examples": {"type": "array", "items": record}},
                        "required": ["examples"],
                        "additionalProperties": False,
                    },
                ],
                "$defs": defs,
            }
    elif kind == "manifest":
        schema = Manifest.model_json_schema()
        policy = Policy.model_json_schema(by_alias=True)
        defs = schema.setdefault("$defs", {})
        defs.update(policy.pop("$defs", {}))
        defs["Policy"] = policy
        schema["properties"]["policy"] = {
            "$ref": "#/$defs/Policy",
            "description": "overrides of the project's policy, key by key",
        }
    else:
        schema = Result.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def run_schema(args: argparse.Namespace) -> int:
    if args.file and args.kind != "example":
        args.parser.error("--file applies to example only: manifests and results are one file each")
    print(json.dumps(schema_of(args.kind, file=args.file), indent=2, ensure_ascii=False))
    return 0
