#!/usr/bin/env python3
"""How many wrong diagnoses would really relaunch a job, with the default fixers.

A wrong *fixable* kind is the issue's measure of harm, but a relaunch needs the kind's fixer to
propose an edit: memory or time raised, a pip install, a retry, a directory made. This runs
`trackit diagnose --fix JOB.sh` on every case of a split, with a plain batch script (16G, 4 h,
4 CPUs, `python train.py`) in a scratch git repository, and counts the cases whose verdict is wrong
and whose fixer proposes edits: the relaunches that would burn an attempt for nothing.

Usage: scripts/wrong-relaunches.py [--trackit BIN] SPLIT_DIR...    (e.g. tests/data/corpus/test)
"""
import argparse
import collections
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

JOB = """#!/bin/bash
#SBATCH --job-name=train
#SBATCH --mem=16G
#SBATCH --time=04:00:00
#SBATCH --cpus-per-task=4
#SBATCH --output=logs/%x-%j.out
python train.py --epochs 10
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trackit", default="target/debug/trackit")
    ap.add_argument("splits", nargs="+")
    args = ap.parse_args()
    trackit = os.path.abspath(args.trackit)
    repo = tempfile.mkdtemp(prefix="wrong-relaunches-")
    subprocess.run(["git", "init", "-q", repo], check=True)
    with open(os.path.join(repo, "job.sh"), "w") as f:
        f.write(JOB)
    for split in args.splits:
        split = os.path.abspath(split)
        report = json.loads(
            subprocess.run([trackit, "policy", "test", "--json", split], capture_output=True, text=True, cwd=repo).stdout
        )
        labels = {e["file"]: e for e in json.load(open(os.path.join(split, "labels.json")))}

        def fix(case):
            label = labels[case["file"]]
            cmd = [trackit, "--json", "diagnose", "--fix", "job.sh", os.path.join(split, case["file"])]
            # As `policy test` reads them: the first word of each ("CANCELLED by 0", "2 (srun)").
            state = str(label.get("scheduler_state") or "").split()
            exit_code = str(label.get("exit_code") if label.get("exit_code") is not None else "").split()
            facts = (["--state", state[0]] if state else []) + (["--exit-code", exit_code[0]] if exit_code else [])
            out = subprocess.run(cmd + facts, capture_output=True, text=True, cwd=repo)
            if out.returncode != 0 and facts:
                # A state or exit code the command line refuses (`policy test` ignores it too).
                out = subprocess.run(cmd, capture_output=True, text=True, cwd=repo)
            d = json.loads(out.stdout)
            edits = (d.get("fix") or {}).get("edits") or []
            return case, d["kind"], [e["display"] for e in edits]

        fixable = [c for c in report["cases"] if c["fixable"]]
        counts = collections.Counter()
        wrong = []
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            for case, kind, edits in pool.map(fix, fixable):
                if kind != case["got"]:
                    print(f"note: {case['file']}: policy test said {case['got']}, diagnose said {kind}", file=sys.stderr)
                side = "right" if case["pass"] else "wrong"
                counts[(side, bool(edits))] += 1
                if not case["pass"] and edits:
                    wrong.append((case["file"], case["expected"], case["got"], edits))
        name = os.path.basename(split)
        print(f"## {name}: {len(report['cases'])} logs")
        print(f"  fixable verdicts, right: {counts[('right', True)] + counts[('right', False)]} "
              f"({counts[('right', True)]} would relaunch with an edit)")
        print(f"  fixable verdicts, wrong: {counts[('wrong', True)] + counts[('wrong', False)]} "
              f"({counts[('wrong', True)]} would relaunch with an edit: a wasted attempt)")
        for f, expected, got, edits in sorted(wrong):
            print(f"    {f}: expected {expected}, got {got}: {'; '.join(edits)}")


if __name__ == "__main__":
    main()
