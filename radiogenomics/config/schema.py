"""Config checking before anything runs: the JSON schema (with its defaults filled in) and the input paths.

:func:`validate_config` replaces ``snakemake.utils.validate`` in ``workflow/rules/common.smk``. It fills the
schema's ``default:`` values exactly as Snakemake's ``validate(..., set_default=True)`` does (the same
jsonschema Draft 2020-12 validator extended to set defaults while it validates), but on a bad config it
raises one short :class:`ConfigError` instead of Snakemake's dump of the schema and the config:

* an unknown key: the key, its path in the config (``evaluation.inner_fold``) and the closest valid key
  (``did you mean `evaluation.inner_folds`?``), searched in the same section first, then in every section;
* a value of the wrong type: its path, the value and the expected type;
* any other violation (an enum, a minimum, a required key): its path and jsonschema's one-line reason.

The config files holding the offending key are named when they are given (``sources``).

:func:`check_input_paths` checks that every configured input file (``inputs.*``, gene-set collections,
the held-out cohort and the Biotab follow-up tables) exists, naming the config key and the path, so a
config that points at a missing file always fails, even when the results of an earlier run exist.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Iterable, Iterator

import jsonschema
import yaml
from jsonschema import Draft202012Validator, validators

#: Keys of ``inputs`` that name one file each, and those that name a list of files.
INPUT_FILE_KEYS = ("expression", "vasari", "clinical", "clanc", "targets", "survival")
INPUT_LIST_KEYS = ("clinical_follow_up", "clinical_drug", "clinical_radiation", "new_tumor_event")
#: Keys of ``inputs.test`` that name a file.
TEST_FILE_KEYS = ("expression", "targets", "patients")

_TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping (key: value)",
    "null": "null",
}


class ConfigError(ValueError):
    """A bad config: one short message naming the key (its path in the config) and what was expected."""


def load_schema(schema: str | os.PathLike | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(schema, Mapping):
        return dict(schema)
    return yaml.safe_load(Path(schema).read_text())


def _default_filling_validator(schema: Mapping[str, Any]):
    """Snakemake's validator (snakemake.utils.validate): Draft 2020-12, setting each property's default
    before validating the properties."""
    validate_properties = Draft202012Validator.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, subschema):
        for prop, sub in properties.items():
            if "default" in sub:
                instance.setdefault(prop, sub["default"])
        yield from validate_properties(validator, properties, instance, subschema)

    cls = validators.extend(Draft202012Validator, {"properties": set_defaults})
    return cls(schema)


def key_path(parts: Iterable[Any]) -> str:
    """``evaluation.models[1]`` style path of a config value."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "(top level)"


def _schema_keys(schema: Mapping[str, Any], prefix: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """(path, key) of every named property of the schema, nested objects included."""
    for key, sub in (schema.get("properties") or {}).items():
        yield prefix, key
        if isinstance(sub, Mapping):
            yield from _schema_keys(sub, prefix + (key,))


def _closest_key(key: str, allowed: Sequence[str], parent: tuple, schema: Mapping[str, Any]) -> str | None:
    """The closest valid key: in the same section first, else anywhere in the schema (a key put in the
    wrong section); returned as a full path."""
    everywhere = {key_path(p + (k,)): k for p, k in _schema_keys(schema)}
    exact = [path for path, k in everywhere.items() if k == key]
    if exact:  # a valid key in another section
        return exact[0]
    match = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    if match:
        return key_path(parent + (match[0],))
    names = difflib.get_close_matches(key, sorted(set(everywhere.values())), n=1, cutoff=0.75)
    if names:
        return next(path for path, k in everywhere.items() if k == names[0])
    return None


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    if value is None:
        return "empty (null)"
    return type(value).__name__


def _describe(sub: Mapping[str, Any]) -> str:
    """A few words for one alternative of a oneOf / anyOf schema."""
    if "enum" in sub:
        return " or ".join(repr(v) for v in sub["enum"])
    kind = sub.get("type")
    kinds = [kind] if isinstance(kind, str) else list(kind or [])
    if kinds == ["array"] and isinstance(sub.get("items"), Mapping) and sub["items"].get("type"):
        return f"a list of {sub['items']['type']}s"
    return " or ".join(_TYPE_NAMES.get(k, k) for k in kinds) or "a value of another form"


def _locate(parts: Sequence[Any], sources: Sequence[str]) -> str:
    """Which config file(s) hold the key at ``parts`` (' in a.yaml'), '' when none of them (e.g. --config)."""
    found = []
    for src in sources:
        try:
            node: Any = yaml.safe_load(Path(src).read_text())
        except (OSError, yaml.YAMLError):
            continue
        for p in parts:
            if isinstance(node, Mapping) and p in node:
                node = node[p]
            elif isinstance(node, list) and isinstance(p, int) and p < len(node):
                node = node[p]
            else:
                break
        else:
            found.append(str(src))
    return f" (in {', '.join(found)})" if found else ""


def _message(error: jsonschema.ValidationError, schema: Mapping[str, Any], sources: Sequence[str]) -> str:
    parts = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = list((error.schema.get("properties") or {}))
        patterns = list((error.schema.get("patternProperties") or {}))
        extras = [k for k in error.instance if k not in allowed
                  and not any(re.search(p, str(k)) for p in patterns)]
        key = str(extras[0]) if extras else "?"
        full = parts + [key]
        closest = _closest_key(key, allowed, tuple(parts), schema)
        hint = f"; did you mean `{closest}`?" if closest else f"; valid keys here: {', '.join(allowed)}"
        more = f" (and {len(extras) - 1} more unknown key(s): {', '.join(map(str, extras[1:4]))})" if len(extras) > 1 \
            else ""
        return f"config: unknown key `{key_path(full)}`{_locate(full, sources)}{hint}{more}"
    where = f"`{key_path(parts)}`{_locate(parts, sources)}"
    if error.validator == "type":
        expected = error.validator_value
        expected = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in expected)
        return f"config: {where} is {_short(error.instance)} ({_type_name(error.instance)}); expected {wanted}"
    if error.validator == "enum":
        return (f"config: {where} is {_short(error.instance)}; expected one of "
                f"{', '.join(map(str, error.validator_value))}")
    if error.validator == "required":
        missing = [k for k in error.validator_value if isinstance(error.instance, Mapping) and k not in error.instance]
        return f"config: {where} lacks the required key(s) {', '.join(map(repr, missing))}"
    if error.validator in ("oneOf", "anyOf") and isinstance(error.validator_value, list):
        wanted = " or ".join(_describe(sub) for sub in error.validator_value)
        return f"config: {where} is {_short(error.instance)} ({_type_name(error.instance)}); expected {wanted}"
    reason = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return f"config: {where}: {reason}"


def validate_config(config: dict, schema: str | os.PathLike | Mapping[str, Any], *,
                    sources: Sequence[str | os.PathLike] = ()) -> dict:
    """Validate ``config`` against ``schema`` and fill in its defaults (in place, as Snakemake's
    ``validate`` does); returns ``config``. Raises :class:`ConfigError` with one short message for the most
    relevant problem (jsonschema's ``best_match``). ``sources``: the config files, to name the file that
    holds a bad key."""
    schema = load_schema(schema)
    validator = _default_filling_validator(schema)
    errors = list(validator.iter_errors(config))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        raise ConfigError(_message(best, schema, [str(s) for s in sources]))
    return config


def configured_input_paths(config: Mapping[str, Any], *, simulated: bool, downloaded: Iterable[str] = ()
                           ) -> list[tuple[str, str]]:
    """(config key, path) of every input file the config names and the workflow reads.

    With ``simulated`` the simulator writes the main tables, so only the Biotab follow-up / drug / radiation
    / new-tumour-event tables (read with the simulated cohort too) are listed. ``downloaded``: config keys
    (``inputs.expression``, ``inputs.gene_sets.hallmark``) that an enabled download source provides instead.
    """
    inputs = config.get("inputs") or {}
    skip = set(downloaded)
    out: list[tuple[str, str]] = []
    if not simulated:
        for key in INPUT_FILE_KEYS:
            if inputs.get(key) is not None:
                out.append((f"inputs.{key}", inputs[key]))
        for name, path in (inputs.get("gene_sets") or {}).items():
            out.append((f"inputs.gene_sets.{name}", path))
        test = inputs.get("test") or {}
        for key in TEST_FILE_KEYS:
            if test.get(key) is not None:
                out.append((f"inputs.test.{key}", test[key]))
    for key in INPUT_LIST_KEYS:
        for i, path in enumerate(inputs.get(key) or []):
            out.append((f"inputs.{key}[{i}]", path))
    return [(k, p) for k, p in out if k not in skip]


def check_input_paths(config: Mapping[str, Any], *, simulated: bool, downloaded: Iterable[str] = (),
                      base: str | os.PathLike | None = None) -> None:
    """Raise :class:`ConfigError` naming the config key and the path of every configured input file that
    does not exist (or is not a file); paths are relative to ``base`` (default: the working directory)."""
    root = Path(base) if base is not None else Path.cwd()
    problems = []
    for key, path in configured_input_paths(config, simulated=simulated, downloaded=downloaded):
        full = Path(path) if Path(path).is_absolute() else root / path
        if not full.exists():
            problems.append(f"{key} = {path!r}: file not found (looked for {full})")
        elif not full.is_file():
            problems.append(f"{key} = {path!r}: not a file (a directory?)")
    if problems:
        head = "config: an input file does not exist" if len(problems) == 1 else \
            f"config: {len(problems)} input files do not exist"
        raise ConfigError(head + ": " + "; ".join(problems))
