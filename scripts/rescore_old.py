#!/usr/bin/env python3
"""rescore_old.py NEW.json SPLIT=OLD.json ...  > rescored.json

Scores an older trackit's `policy test --json DIR` output (one per split; older builds neither
know the dev/test layout nor the kinds a label also accepts) by the same rules as the current
one: the expected kind and accepted kinds come from NEW.json, the current build's
`policy test --json tests/data/corpus`. The result feeds scripts/confusion.py.

    trackit policy test --json tests/data/corpus > new.json
    OLD/trackit policy test --json tests/data/corpus/dev > old-dev.json
    OLD/trackit policy test --json tests/data/corpus/test > old-test.json
    scripts/rescore_old.py new.json dev=old-dev.json test=old-test.json | scripts/confusion.py
"""
import json
import sys

# The default policy's settings.fixable_kinds (what `policy test --json` reports as `fixable`).
FIXABLE = {"oom", "timeout", "missing_dep", "path_error", "container", "disk_quota", "preempted",
           "node_fail"}


def main() -> None:
    new = json.load(open(sys.argv[1]))
    by_file = {c["file"]: c for c in new["cases"]}
    cases = []
    for arg in sys.argv[2:]:
        split, path = arg.split("=", 1)
        for old in json.load(open(path))["cases"]:
            ref = by_file[f"{split}/{old['file']}"]
            right = old["got"] == ref["expected"] or old["got"] in ref.get("accepted", [])
            cases.append({"split": split, "file": ref["file"], "expected": ref["expected"],
                          "got": old["got"], "pass": right, "fixable": old["got"] in FIXABLE,
                          "accepted": ref.get("accepted", [])})
    json.dump({"cases": cases}, sys.stdout)


if __name__ == "__main__":
    main()
