#!/usr/bin/env python3
"""Scores `trackit policy test --json` output: accuracy, wrong fixable kinds, confusion matrix.

    trackit policy test --json tests/data/corpus | scripts/confusion.py            # every split
    trackit policy test --json tests/data/corpus | scripts/confusion.py --summary  # numbers only
    ... | scripts/confusion.py --summary --ranges 201-255,256-274,275-295         # and by file number

A case is right when the kind is the expected one or one the label also accepts. A *wrong fixable*
case is a wrong kind that would trigger a fix (the costly mistake: memory doubled for a code bug).
The matrix's rows are the expected kinds, its columns the kinds returned; a cell counts cases.
--summary prints only the totals, so a split can be measured without showing which cases failed.
--ranges A-B,C-D adds subtotals for the logs whose file number (logs/NNN-label.log) falls in each
range: the batches a split was collected in.
"""
import json
import sys
from collections import Counter, OrderedDict

ORDER = ["oom", "timeout", "missing_dep", "path_error", "container", "disk_quota", "preempted",
         "node_fail", "cancelled", "submit_error", "distributed", "segfault", "user_code",
         "unknown", "none"]
SHORT = {"missing_dep": "dep", "path_error": "path", "container": "cont", "disk_quota": "disk",
         "preempted": "pre", "node_fail": "node", "cancelled": "canc", "submit_error": "sub",
         "distributed": "dist", "segfault": "segv", "user_code": "code", "unknown": "unk",
         "timeout": "time"}


def number(case: dict) -> int:
    name = case["file"].rsplit("/", 1)[-1]
    digits = name.split("-", 1)[0]
    return int(digits) if digits.isdigit() else -1


def main() -> None:
    args = sys.argv[1:]
    summary_only = "--summary" in args
    ranges = []
    if "--ranges" in args:
        for part in args[args.index("--ranges") + 1].split(","):
            lo, hi = part.split("-")
            ranges.append((int(lo), int(hi)))
    report = json.load(sys.stdin)
    groups: "OrderedDict[str, list]" = OrderedDict()
    for case in report["cases"]:
        groups.setdefault(case.get("split") or "all", []).append(case)
    for name, cases in groups.items():
        right = sum(c["pass"] for c in cases)
        wrong_fixable = [c for c in cases if not c["pass"] and c["fixable"]]
        print(f"## {name}: {right}/{len(cases)} right ({100.0 * right / len(cases):.1f} %), "
              f"{len(wrong_fixable)} wrong fixable")
        for lo, hi in ranges:
            part = [c for c in cases if lo <= number(c) <= hi]
            if part:
                r = sum(c["pass"] for c in part)
                wf = sum(1 for c in part if not c["pass"] and c["fixable"])
                print(f"   logs {lo:03d}-{hi:03d}: {r}/{len(part)} right "
                      f"({100.0 * r / len(part):.1f} %), {wf} wrong fixable")
        if summary_only:
            continue
        counts = Counter((c["expected"], c["got"]) for c in cases)
        got_kinds = [k for k in ORDER if any(g == k for _, g in counts)]
        got_kinds += sorted({g for _, g in counts} - set(got_kinds))
        exp_kinds = [k for k in ORDER if any(e == k for e, _ in counts)]
        exp_kinds += sorted({e for e, _ in counts} - set(exp_kinds))
        print()
        print("| expected \\ got | " + " | ".join(SHORT.get(k, k) for k in got_kinds) + " | right |")
        print("| --- " * (len(got_kinds) + 2) + "|")
        for e in exp_kinds:
            row = [counts.get((e, g), 0) for g in got_kinds]
            ok = sum(c["pass"] for c in cases if c["expected"] == e)
            total = sum(1 for c in cases if c["expected"] == e)
            cells = [str(n) if n else "." for n in row]
            print(f"| {e} | " + " | ".join(cells) + f" | {ok}/{total} |")
        print()


if __name__ == "__main__":
    main()
