"""The hub's modules stand on their own: each imports alone (no import order hides a cycle),
and none imports inside a function to dodge one."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import hub

HUB = Path(hub.__file__).parent

# Each module imported with no other hub module loaded before it, in one fresh interpreter
# (third-party libraries stay loaded between them: only the hub's own order is at stake).
_ALONE = """
import importlib, json, sys, traceback
failed = {}
for name in json.loads(sys.argv[1]):
    for loaded in [m for m in sys.modules if m == "hub" or m.startswith("hub.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failed[name] = traceback.format_exc(limit=3)
print(json.dumps(failed))
"""


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages([str(HUB)], "hub.")
                  if not m.name.endswith("__main__"))


def test_every_hub_module_imports_on_its_own():
    names = _modules()
    assert len(names) > 100  # the walk found the packages
    done = subprocess.run([sys.executable, "-c", _ALONE, json.dumps(names)],
                          capture_output=True, text=True, timeout=300, check=True)
    failed = json.loads(done.stdout.strip().splitlines()[-1])
    assert not failed, "\n\n".join(f"{k}:\n{v}" for k, v in failed.items())


def _imports_in_functions(source: str, where: str) -> list[str]:
    tree = ast.parse(source)
    inside: dict[int, ast.Import | ast.ImportFrom] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inside.update((id(n), n) for n in ast.walk(node)
                          if isinstance(n, ast.Import | ast.ImportFrom))
    found = []
    for node in sorted(inside.values(), key=lambda n: n.lineno):
        what = node.module if isinstance(node, ast.ImportFrom) else \
            ", ".join(a.name for a in node.names)
        found.append(f"{where}:{node.lineno} {what}")
    return found


def test_no_hub_module_imports_inside_a_function():
    found = [line for path in sorted(HUB.rglob("*.py"))
             for line in _imports_in_functions(path.read_text(encoding="utf-8"),
                                               str(path.relative_to(HUB.parent)))]
    assert not found, "imports inside functions:\n" + "\n".join(found)


def test_the_check_sees_an_import_inside_a_function():
    source = "import os\n\ndef f():\n    import json\n    async def g():\n" \
             "        from hub import store\n    return json\n"
    assert _imports_in_functions(source, "x.py") == ["x.py:4 json", "x.py:6 hub"]


def _imports_at_load(path: Path, modules: set[str]) -> set[str]:
    """The hub modules a module imports when it loads (annotations-only imports aside)."""
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for n in ast.walk(node):
            if isinstance(n, ast.ImportFrom) and n.module and n.module.startswith("hub"):
                found.add(n.module)
                found.update(f"{n.module}.{a.name}" for a in n.names)
            elif isinstance(n, ast.Import):
                found.update(a.name for a in n.names)
    return found & modules


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while (w := stack.pop()) != v:
                group.append(w)
            if group:
                circles.append(sorted([v, *group]))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return circles


def test_no_import_circle_anywhere_in_the_hub():
    paths = {(".".join(p.relative_to(HUB.parent).with_suffix("").parts)
              .removesuffix(".__init__")): p for p in HUB.rglob("*.py")}
    modules = set(paths)
    graph = {m: _imports_at_load(p, modules) - {m} for m, p in paths.items()}
    assert not _circles(graph)
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
