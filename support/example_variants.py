#!/usr/bin/env python3
"""Writes an example configuration as it is, then once per "#alt" alternative it offers, that
alternative uncommented: PREFIX-0.yml, PREFIX-1.yml, ... (their paths on standard output).

An alternative is a run of lines starting (after indentation) with "#alt "; removing the marker
uncomments it. When its first line sets a key that the nearest active line above it sets at
the same indentation, that line is commented out: the alternative replaces it."""
import re
import sys

MARKER = re.compile(r'^(\s*)#alt (.*)$')
KEY = re.compile(r'^(\s*)([A-Za-z_][\w.-]*):')


def key(line):
    m = KEY.match(line)
    return (len(m.group(1)), m.group(2)) if m else None


def variants(lines):
    yield lines
    i = 0
    while i < len(lines):
        if not MARKER.match(lines[i]):
            i += 1
            continue
        end = i
        while end < len(lines) and MARKER.match(lines[end]):
            end += 1
        v = list(lines)
        for k in range(i, end):
            m = MARKER.match(v[k])
            v[k] = m.group(1) + m.group(2)
        above = i - 1
        while above >= 0 and (not v[above].strip() or v[above].lstrip().startswith('#')):
            above -= 1
        if above >= 0 and key(v[i]) is not None and key(v[above]) == key(v[i]):
            v[above] = '#' + v[above]
        yield v
        i = end


def main():
    example, prefix = sys.argv[1], sys.argv[2]
    with open(example) as f:
        lines = f.read().split('\n')
    for n, v in enumerate(variants(lines)):
        path = f'{prefix}-{n}.yml'
        with open(path, 'w') as f:
            f.write('\n'.join(v))
        print(path)


if __name__ == '__main__':
    main()
