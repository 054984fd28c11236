#!/usr/bin/env python3
"""Fails when a module of a workspace crate imports a module that imports it back.

Each source file is one node (its inline modules, `mod tests` included, belong to it). An edge
m -> n is a path in m that names a module n of the same crate (`crate::a::b`, `super::x`,
`self::x`, or a `use` of a sibling declared with `mod`), resolved to the deepest file module it
names. Edges between a module and its own ancestor or descendant are nesting, not imports, and
are left out. A strongly connected set of two or more nodes is a cycle, printed with the paths
that close it.

Usage: scripts/module_cycles.py [CRATE_DIR ...]   (default: every workspace member with src/)
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATH_RE = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE_GROUP_RE = re.compile(r"\buse\s+(crate|super|self)::\{([^;]*)\}\s*;", re.S)
COMMENT_RE = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
STRING_RE = re.compile(r'"(?:\\.|[^"\\])*"')


def members():
    text = (ROOT / "Cargo.toml").read_text()
    m = re.search(r"members\s*=\s*\[([^\]]*)\]", text)
    return [ROOT / s for s in re.findall(r'"([^"]+)"', m.group(1))] if m else []


def file_modules(src):
    """Maps module path tuples to files: lib.rs/main.rs -> (), a/mod.rs or a.rs -> ('a',)."""
    mods = {}
    for f in sorted(src.rglob("*.rs")):
        rel = f.relative_to(src).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] in ("lib", "main") and len(parts) == 1:
            parts = []
        elif parts[-1] == "mod":
            parts = parts[:-1]
        if parts and parts[0] == "bin":
            continue  # src/bin/* are separate crates
        mods[tuple(parts)] = f
    return mods


def resolve(mods, here, kind, segs):
    """The deepest file module named by `kind::segs` written in module `here`."""
    if kind == "crate":
        base = []
    elif kind == "self":
        base = list(here)
    else:  # super (possibly repeated: super::super::x)
        base = list(here[:-1])
        while segs and segs[0] == "super":
            base = base[:-1]
            segs = segs[1:]
    path = base + segs
    for n in range(len(path), -1, -1):
        if tuple(path[:n]) in mods:
            return tuple(path[:n])
    return None


def edges(mods):
    out = {m: {} for m in mods}
    for m, f in mods.items():
        text = STRING_RE.sub('""', COMMENT_RE.sub("", f.read_text()))
        found = []
        for g in USE_GROUP_RE.finditer(text):
            for item in re.split(r"[,{}]", g.group(2)):
                head = item.strip().split("::")[0].split(" ")[0]
                if head and head != "self":
                    found.append((g.group(1), [head]))
        for kind, rest in PATH_RE.findall(text):
            found.append((kind, rest.strip(":").split("::")))
        # Plain `use sibling::x;` where `sibling` is a module declared in this file's parent
        # (2015-style relative paths are not valid in 2021 edition, so only crate roots and
        # their children can do this via `mod` declarations): covered by crate::/super::/self::.
        for kind, segs in found:
            n = resolve(mods, m, kind, segs)
            if n is None or n == m:
                continue
            if n[: len(m)] == m or m[: len(n)] == n:
                continue  # nesting: parent and child
            out[m].setdefault(n, f"{kind}::{'::'.join(segs)}")
    return out


def sccs(graph):
    index, low, stack, on, result, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            result.append(comp)

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return result


def name(crate, m):
    return "::".join([crate] + list(m))


def main(argv):
    crates = [Path(a).resolve() for a in argv] or members()
    bad = 0
    for c in crates:
        src = c / "src"
        if not src.is_dir():
            continue
        mods = file_modules(src)
        graph = edges(mods)
        for comp in sccs(graph):
            if len(comp) < 2:
                continue
            bad += 1
            members_ = set(comp)
            print(f"cycle in {c.name}: " + ", ".join(sorted(name(c.name, m) for m in comp)))
            for m in sorted(comp):
                for n, via in sorted(graph[m].items()):
                    if n in members_:
                        print(f"  {name(c.name, m)} -> {name(c.name, n)}  (via {via})")
    if bad:
        print(f"{bad} module cycle(s): make the shared types a leaf module both can import")
        return 1
    print(f"no module cycles in {len(crates)} crate(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
