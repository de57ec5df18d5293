#!/usr/bin/env python3
"""The `figure` lines of benchmark logs (benchmark, figure, value, target, verdict; tab-separated)
as one Markdown table, in the order given. Used by support/bench.sh."""
import sys

rows = []
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if fields[0] == "figure" and len(fields) == 6:
                rows.append(fields[1:])

header = ["benchmark", "figure", "measured", "target", "pass/miss"]
widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
def show(r):
    return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"
print(show(header))
print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
for r in rows:
    print(show(r))
misses = sum(1 for r in rows if r[4] == "miss")
passes = sum(1 for r in rows if r[4] == "pass")
print(f"\n{passes} targets met, {misses} missed.")
