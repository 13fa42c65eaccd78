#!/usr/bin/env python3
"""Rewrites `\\d` and `\\w` in a policy's regexes (Lua `[=[...]=]` strings) as ASCII classes.

Unicode `\\d` and `\\w` are large classes; compiled into the ~470 patterns of the default policy
they made start-up about three times slower (docs/benchmarks.md). Logs' decisive words are ASCII.
Usage: scripts/ascii-classes.py FILE...   (rewrites in place; prints how many it changed)
"""
import re
import sys

LONG = re.compile(r"\[(=*)\[(.*?)\]\1\]", re.S)


def rewrite(regex: str) -> str:
    out, depth, i = [], 0, 0
    while i < len(regex):
        c = regex[i]
        if c == "\\" and i + 1 < len(regex):
            nxt = regex[i + 1]
            if nxt == "d":
                out.append("0-9" if depth else "[0-9]")
            elif nxt == "w":
                out.append("A-Za-z0-9_" if depth else "[A-Za-z0-9_]")
            else:
                out.append(c + nxt)
            i += 2
            continue
        if c == "[":
            # `[[:word:]]`-style ASCII classes open no nested class.
            m = re.match(r"\[:\^?[a-z]+:\]", regex[i:])
            if depth and m:
                out.append(m.group(0))
                i += len(m.group(0))
                continue
            depth += 1
            out.append(c)
            # A `]` or `^]` right after the opening bracket is a literal.
            if regex[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            if regex[i + 1 : i + 2] == "]":
                out.append("]")
                i += 1
        elif c == "]" and depth:
            depth -= 1
            out.append(c)
        else:
            out.append(c)
        i += 1
    return "".join(out)


for path in sys.argv[1:]:
    text = open(path).read()
    count = 0

    def fix(m):
        global count
        new = rewrite(m.group(2))
        count += new != m.group(2)
        return f"[{m.group(1)}[{new}]{m.group(1)}]"

    out = LONG.sub(fix, text)
    open(path, "w").write(out)
    print(f"{path}: {count} regexes rewritten")
