#!/usr/bin/env python3
"""Validate a driver-call trace (CLOUD_DISPATCH_DRIVER_TRACE) against the driver schema with
python-jsonschema, an implementation independent of the host's own validator. Given the
executor schema (its $id names executor-abi), it checks the executor-backend entries instead
(they carry "kind": "executor"; driver entries have no kind).

Every reply of a successful call must match <operation>_reply, and every request of a
successful call must match <operation>_request. Requests the driver refused are left out:
the conformance kit sends malformed ones on purpose.

usage: validate_trace.py SCHEMA TRACE [TRACE...]
Prints 'N passed, N failed' and exits non-zero on any failure or on an empty trace.
"""
import json
import sys

import jsonschema


def main() -> int:
    schema_path, traces = sys.argv[1], sys.argv[2:]
    with open(schema_path) as f:
        document = json.load(f)
    jsonschema.Draft202012Validator.check_schema(document)
    plugin_kind = "executor" if "executor-abi" in document.get("$id", "") else "driver"
    passed = failed = 0
    seen = set()
    for trace in traces:
        with open(trace) as f:
            for number, line in enumerate(f, 1):
                entry = json.loads(line)
                if entry["status"] != "ok" or entry.get("kind", "driver") != plugin_kind:
                    continue
                op = entry["operation"]
                checks = [("reply", entry.get("reply"))]
                if op != "capabilities":
                    checks.append(("request", entry.get("request")))
                for kind, text in checks:
                    name = f"{op}_{kind}"
                    schema = {"$ref": f"#/$defs/{name}", "$defs": document["$defs"]}
                    validator = jsonschema.Draft202012Validator(schema)
                    errors = sorted(validator.iter_errors(json.loads(text)), key=str)
                    seen.add(name)
                    if errors:
                        failed += 1
                        print(f"FAIL {trace}:{number} {entry['driver']} {name}: {errors[0].message}")
                    else:
                        passed += 1
    print("schemas exercised: " + ", ".join(sorted(seen)))
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
