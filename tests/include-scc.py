#!/usr/bin/env python3
"""include-scc.py - the include graph of core/: files per folder and the
strongly connected components (include cycles).

Usage: tests/include-scc.py [ROOT]   (ROOT: the source tree; default .)

Three graphs are built from the #include "..." lines of ROOT/core:
  - files: one node per .c/.h file;
  - modules: foo.c and foo.h are one node (a concept), so that
    "daemon.c includes ctlserver.h and ctlserver.c includes daemon.h"
    shows as a cycle;
  - folders: one node per folder (wing) of core/.
For each, every strongly connected component with more than one node is
printed (a cycle). A name is resolved against the including file's
folder first, then against core/ (the -I of the build)."""

import os
import re
import sys
from collections import defaultdict

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def core_files(core):
    out = []
    for d, _, names in os.walk(core):
        for n in names:
            if n.endswith((".c", ".h")):
                out.append(os.path.relpath(os.path.join(d, n), core))
    return sorted(out)


def resolve(core, src, name, files):
    here = os.path.normpath(os.path.join(os.path.dirname(src), name))
    if here in files:
        return here
    top = os.path.normpath(name)
    return top if top in files else None


def file_graph(core):
    files = set(core_files(core))
    g = defaultdict(set)
    for f in sorted(files):
        g[f]
        with open(os.path.join(core, f), encoding="utf-8",
                  errors="replace") as fh:
            for line in fh:
                m = INCLUDE.match(line)
                if not m:
                    continue
                t = resolve(core, f, m.group(1), files)
                if t and t != f:
                    g[f].add(t)
    return g


def collapse(g, key):
    h = defaultdict(set)
    for a, targets in g.items():
        h[key(a)]
        for b in targets:
            if key(a) != key(b):
                h[key(a)].add(key(b))
    return h


def sccs(g):
    """Tarjan, iterative."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for root in sorted(g):
        if root in index:
            continue
        work = [(root, iter(sorted(g[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(g[w]))))
                    advanced = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
    return sorted(c for c in out if len(c) > 1)


def report(title, g):
    cyc = sccs(g)
    print("%s: %d nodes, %d edges, %d cycle(s)" %
          (title, len(g), sum(len(v) for v in g.values()), len(cyc)))
    for c in cyc:
        print("  cycle (%d): %s" % (len(c), " ".join(c)))


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    core = os.path.join(root, "core")
    if not os.path.isdir(core):
        print("include-scc: no core/ under %s" % root, file=sys.stderr)
        return 2
    g = file_graph(core)
    per = defaultdict(int)
    for f in g:
        per[os.path.dirname(f) or "."] += 1
    print("files per folder of core/:")
    for d in sorted(per):
        print("  %-10s %3d" % (d + "/", per[d]))
    print("  %-10s %3d" % ("total", len(g)))
    report("files", g)
    report("modules (foo.c + foo.h)",
           collapse(g, lambda f: os.path.splitext(f)[0]))
    report("folders", collapse(g, lambda f: os.path.dirname(f) or "."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
