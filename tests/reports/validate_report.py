#!/usr/bin/env python3
"""Validates report.json files against the JSON Schema.

usage: validate_report.py SCHEMA REPORT...

Checks the schema itself first (draft 2020-12 meta-schema), then prints one
line per report: "VALID <path>" or "INVALID <path>: <json path>: <message>"
(the first error by path). Exit status: 0 all valid, 1 some invalid, 2 the
schema itself is invalid, 3 jsonschema cannot be imported.
"""
import json
import sys

try:
    import jsonschema
except ImportError as e:  # pragma: no cover - reported to the test, which skips
    print(f"cannot import jsonschema: {e}", file=sys.stderr)
    sys.exit(3)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print(f"schema invalid: {e.message}", file=sys.stderr)
        return 2
    validator = jsonschema.Draft202012Validator(schema)
    status = 0
    for path in argv[2:]:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
        errors = sorted(validator.iter_errors(report), key=lambda e: list(map(str, e.absolute_path)))
        if errors:
            status = 1
            first = errors[0]
            where = "$" + "".join(f"[{p!r}]" for p in first.absolute_path)
            print(f"INVALID {path}: {where}: {first.message} ({len(errors)} error(s))")
        else:
            print(f"VALID {path}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
