"""The manifest of an eval set: read safely, validated, and resolved into an `EvalSet` whose
record files are known but not yet read (docs/formats.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pytest_evalmix.errors import ManifestError
from pytest_evalmix.files import safe_yaml as yamlsafe
from pytest_evalmix.files.paths import bad_name, display_path, expand, inside, outside_finding
from pytest_evalmix.formats import presets
from pytest_evalmix.model import policy as policy_mod
from pytest_evalmix.model.evalset import NO_MAP, EvalSet, FieldMap, Source
from pytest_evalmix.model.findings import Finding
from pytest_evalmix.model.policy import PolicyError, suggest
from pytest_evalmix.model.records import EXAMPLE_KEYS, DataFile, Manifest, ResultsSpec


def resolve(
    manifest_path: Path,
    rootdir: Path,
    project_policy: Mapping[str, Any],
) -> EvalSet:
    """Load one eval set. Bad records become findings; a bad manifest raises `ManifestError`.

    ``sharing`` is how many processes load side by side (pytest-xdist workers); big JSONL
    inputs are scanned with this process's share of the cores (see `fastload.scan_files`).
    With ``records=False`` only the manifest is read and its data files resolved; `fill` reads
    the records later (`load.git` puts the files of a git revision in place in between).
    """
    shown = display_path(manifest_path, rootdir)
    if not inside(manifest_path, rootdir):
        raise ManifestError(
            shown,
            1,
            "the manifest is a symlink that resolves outside the rootdir; it was not read — "
            "put the manifest itself under the project's rootdir",
        )
    manifest, lines = read_manifest(manifest_path, shown)

    def line_of(*key: Any) -> int:
        return lines.get(key, 1)

    try:
        policy_mod.check_keys(manifest.policy, prefix="policy.")
        effective = policy_mod.build(project_policy, manifest.policy)
    except PolicyError as exc:
        parts = tuple(int(p) if p.isdigit() else p for p in exc.key.split("."))
        if parts[0] != "policy":
            parts = ("policy", *parts)
        while parts and parts not in lines:
            parts = parts[:-1]
        raise ManifestError(shown, lines.get(parts, 1), exc.message) from None

    name = manifest.name or _default_name(manifest_path)
    evalset = EvalSet(
        name=name,
        manifest=shown,
        manifest_path=manifest_path,
        rootdir=rootdir,
        policy=effective,
        split=manifest.split,
    )
    base_map = _field_map(manifest.fields, shown, line_of("fields"))
    evalset.coverage_line = line_of("policy", "coverage")
    evalset.files.append(shown)
    evalset.inline_source = Source(manifest_path, shown, base_map, {}, 0)
    evalset.inline = [(line_of("examples", i), raw) for i, raw in enumerate(manifest.examples)]
    here = manifest_path.parent

    for index, entry in enumerate(manifest.data):
        spec = entry if isinstance(entry, DataFile) else DataFile(path=entry)
        entry_line = line_of("data", index)
        mapping = base_map
        if spec.fields is not None:
            mapping = _field_map(spec.fields, shown, line_of("data", index, "fields"))
        defaults = spec.defaults
        if defaults and effective.schema_.extra != "allow":
            # A typo here is one mistake in the manifest, not one per record it fills.
            defaults, typos = _known_defaults(defaults, "", ("data", index, "defaults"), lines)
            evalset.findings.extend(
                Finding(shown, line, None, message, fix) for line, message, fix in typos
            )
        for path in expand(spec.path, here, rootdir, shown, entry_line, evalset.findings):
            evalset.files.append(display_path(path, rootdir))
            evalset.record_files.append(
                Source(path, evalset.files[-1], mapping, defaults, entry_line)
            )

    _resolve_against(evalset, manifest, here, line_of)

    if manifest.results is not None:
        spec_results = (
            manifest.results
            if isinstance(manifest.results, ResultsSpec)
            else ResultsSpec(path=manifest.results)
        )
        results = (here / spec_results.path).absolute()
        problem = bad_name(spec_results.path)
        if problem is not None:
            evalset.findings.append(
                Finding(
                    shown,
                    line_of("results"),
                    None,
                    f"results path '{spec_results.path}' {problem}: no file can have that name",
                    "fix the path in the manifest",
                )
            )
        elif not inside(results, rootdir):
            evalset.findings.append(outside_finding(shown, line_of("results"), spec_results.path))
        else:
            evalset.results = display_path(results, rootdir)
            evalset.results_path = results
            evalset.results_format = spec_results.format
            if spec_results.threshold is not None:
                evalset.results_threshold = spec_results.threshold

    return evalset


def _resolve_against(
    evalset: EvalSet, manifest: Manifest, here: Path, line_of: Callable[..., int]
) -> None:
    """``policy.leakage.against``, resolved like data entries: relative to the manifest when
    the manifest names them, to the rootdir when ``pyproject.toml`` does."""
    leakage = manifest.policy.get("leakage")
    in_manifest = isinstance(leakage, Mapping) and "against" in leakage
    base = here if in_manifest else evalset.rootdir
    for index, entry in enumerate(evalset.policy.leakage.against):
        spec = entry if isinstance(entry, DataFile) else DataFile(path=entry)
        line = line_of("policy", "leakage", "against", index) if in_manifest else line_of("policy")
        mapping = NO_MAP
        if spec.fields is not None:
            mapping = _field_map(spec.fields, evalset.manifest, line)
        for path in expand(
            spec.path,
            base,
            evalset.rootdir,
            evalset.manifest,
            line,
            evalset.against_findings,
            kind="against",
            any_type=True,
        ):
            evalset.against.append(
                Source(path, display_path(path, evalset.rootdir), mapping, spec.defaults, line)
            )


def _default_name(path: Path) -> str:
    name = path.name
    for suffix in (".evalmix.yaml", ".evalmix.yml", ".yaml", ".yml"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


# A manifest is read whole, as YAML, on every run (a pre-commit hook too): beyond this size it
# is refused before parsing, with a finding that says where records belong (docs/formats.md).
# YAML costs some 1.5 s a MB; 88,000 inline examples (10 MB) took 16 s and 800 MB.
MANIFEST_BYTES = 1024 * 1024


def _too_big(data: bytes, shown: str) -> ManifestError:
    at = data.find(b"\nexamples:")
    line = data.count(b"\n", 0, at) + 2 if at >= 0 else 1
    return ManifestError(
        shown,
        line,
        f"the manifest is {len(data) / 1e6:.1f} MB; at most {MANIFEST_BYTES // 1024} KiB is read"
        " — move the inline examples: to a JSONL file and list it under data:",
    )


def read_manifest(path: Path, shown: str) -> tuple[Manifest, dict[tuple[Any, ...], int]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ManifestError(shown, 1, f"cannot read the manifest: {exc.strerror}") from None
    if len(data) > MANIFEST_BYTES:
        raise _too_big(data, shown)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ManifestError(shown, line, "non-UTF-8 bytes; re-save the file as UTF-8") from None
    try:
        root = yamlsafe.compose(data)
        raw = yamlsafe.construct(root) if root is not None else None
    except yamlsafe.YamlError as exc:
        raise ManifestError(shown, exc.line, exc.message) from None
    lines = dict(yamlsafe.key_lines(root)) if root is not None else {}
    if not isinstance(raw, dict):
        raise ManifestError(
            shown,
            1,
            "a manifest is a YAML mapping: 'evalmix: 1', then data: with its record files",
        )
    try:
        return Manifest.model_validate(raw), lines
    except ValidationError as exc:
        error, loc = _manifest_error(exc, raw)
        key = ".".join(str(p) for p in loc)
        if error["type"] == "extra_forbidden":
            known = DataFile.model_fields if loc[0] == "data" else Manifest.model_fields
            message = f"unknown manifest key '{key}'{suggest(str(loc[-1]), set(known))}"
        elif error["type"] == "missing":
            message = f"missing required key '{key}'"
            if key == "evalmix":
                message += ": add 'evalmix: 1' (the format version)"
        elif key == "evalmix":
            message = f"unsupported format version {raw.get('evalmix')!r}: this plugin reads 1"
        else:
            message = f"'{key}': {error['msg']}"
        while loc and loc not in lines:
            loc = loc[:-1]
        raise ManifestError(shown, lines.get(loc, 1), message) from None


def _known_defaults(
    defaults: dict[str, Any],
    prefix: str,
    at: tuple[Any, ...],
    lines: dict[tuple[Any, ...], int],
) -> tuple[dict[str, Any], list[tuple[int, str, str]]]:
    """``defaults`` without its unknown keys, and ``(line, message, fix)`` for each of them."""
    known = EXAMPLE_KEYS.get(prefix)
    if known is None:
        return defaults, []
    kept: dict[str, Any] = {}
    typos: list[tuple[int, str, str]] = []
    for key, value in defaults.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if key not in known:
            typos.append(
                (
                    lines.get((*at, key), lines.get(at, 1)),
                    f"unknown key '{dotted}' in the data entry's defaults{suggest(key, known)}",
                    "rename or remove it (or set policy.schema.extra: allow)",
                )
            )
            continue
        if isinstance(value, dict):
            value, deeper = _known_defaults(value, dotted, (*at, key), lines)
            typos.extend(deeper)
        kept[key] = value
    return kept, typos


def _manifest_error(exc: ValidationError, raw: Any) -> tuple[Any, tuple[Any, ...]]:
    """The error to report, with pydantic's union branches taken out of its location.

    A data entry is a path or a mapping, so a typo inside a mapping entry (``feilds:``) fails
    both branches, and the first error pydantic lists (``data.0.str``) is the branch the user
    did not mean. Keep the errors of the branch that matches the value's type, an unknown key
    first, since it names the typo.
    """
    kept: list[tuple[Any, tuple[Any, ...]]] = []
    for error in exc.errors():
        loc: list[Any] = []
        here, taken = raw, True
        for part in error["loc"]:
            if isinstance(here, dict) and part in here:
                here = here[part]
            elif isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here):
                here = here[part]
            elif isinstance(part, str) and part in ("str", "int", "float", "bool"):
                taken = taken and not isinstance(here, (dict, list))  # a scalar branch
                continue
            elif isinstance(part, str) and (part[:1].isupper() or part.startswith("dict[")):
                taken = taken and isinstance(here, dict)  # a model or mapping branch
                continue
            else:
                here = None
            loc.append(part)
        if taken:
            kept.append((error, tuple(loc)))
    if not kept:
        first = exc.errors()[0]
        return first, tuple(first["loc"])
    kept.sort(key=lambda pair: pair[0]["type"] != "extra_forbidden")
    return kept[0]


def _field_map(fields: str | dict[str, str] | None, shown: str, line: int) -> FieldMap:
    """A manifest's ``fields:`` (a preset's name, or our keys -> theirs, maybe with ``preset``)."""
    if fields is None:
        return NO_MAP
    if isinstance(fields, str):
        return FieldMap(_preset(fields, shown, line))
    mapping = dict(fields)
    preset = mapping.pop("preset", None)
    for ours, theirs in mapping.items():
        known = _target_problem(ours)
        if known is not None:
            raise ManifestError(shown, line, f"fields: {known}")
        if not theirs or any(not part for part in theirs.split(".")):
            raise ManifestError(
                shown, line, f"fields: '{ours}' is read from '{theirs}', which is not a key name"
            )
    return FieldMap(_preset(preset, shown, line) if preset is not None else None, mapping)


def _preset(name: str, shown: str, line: int) -> str:
    if name not in presets.NAMES:
        raise ManifestError(
            shown,
            line,
            f"unknown field preset '{name}'{suggest(name, set(presets.NAMES))}; "
            f"presets: {', '.join(sorted(presets.NAMES))}, or a mapping of our key to yours",
        )
    return name


def _target_problem(ours: str) -> str | None:
    """Why ``ours`` names none of our fields, with the nearest one; None when it does."""
    parts = ours.split(".")
    prefix = ""
    for depth, part in enumerate(parts):
        if prefix in ("meta", "grid") and depth:
            return None  # free-form mappings: any key
        known = EXAMPLE_KEYS.get(prefix)
        if known is None or part not in known:
            return f"unknown field '{ours}'{suggest(part, known or set())}"
        prefix = f"{prefix}.{part}" if prefix else part
    return None
