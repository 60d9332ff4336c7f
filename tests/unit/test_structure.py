"""The layout rules of docs/design.md, checked on the code itself.

Authors
 * speechbrain-iusp developers 2026
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "speechbrain_iusp"
RECIPES = ROOT / "recipes"


def _python_files(*folders):
    return sorted(p for f in folders for p in f.rglob("*.py"))


def _module_name(path):
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path):
    """Dotted names a file imports (``from a import b`` gives ``a.b``
    and ``a``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif (
            isinstance(node, ast.ImportFrom) and node.module and not node.level
        ):
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _package_graph():
    modules = {_module_name(p): p for p in _python_files(PACKAGE)}
    graph = {}
    for name, path in modules.items():
        graph[name] = {
            target
            for target in _imports(path)
            if target in modules and target != name
        }
    return graph


def _cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.add(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def _is_package_init_edge(a, b):
    """``a`` is a package's __init__ handing on a name of its own module
    ``b``, or ``b`` is the __init__ of a package holding ``a``."""
    return b.startswith(a + ".") or a.startswith(b + ".")


def test_no_module_over_800_lines():
    files = _python_files(PACKAGE, RECIPES, ROOT / "benchmarks")
    long = {
        str(p.relative_to(ROOT)): n
        for p in files
        if (n := len(p.read_text().splitlines())) > 800
    }
    assert not long, long


def test_no_import_cycles_in_the_package():
    graph = _package_graph()
    # an __init__ that hands on its modules' names is not a cycle
    graph = {
        a: {b for b in targets if not _is_package_init_edge(a, b)}
        for a, targets in graph.items()
    }
    assert _cycles(graph) == []


def test_the_cycle_check_can_fail():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [
        ["a", "b", "c"]
    ]


def test_the_package_never_imports_the_recipe():
    scripts = {p.stem for p in RECIPES.rglob("*.py")}
    for path in _python_files(PACKAGE):
        top = {name.split(".")[0] for name in _imports(path)}
        assert not top & (scripts | {"recipes"}), path


@pytest.mark.parametrize("recipe", ["DCASE2019", "ESC50"])
def test_the_recipe_is_glue(recipe):
    scripts = sorted((RECIPES / recipe).glob("*.py"))
    lines = {p.name: len(p.read_text().splitlines()) for p in scripts}
    assert sum(lines.values()) <= 600, lines
    assert lines["train.py"] <= 250, lines
    names = {p.stem for p in scripts}
    for path in scripts:
        assert not {n.split(".")[0] for n in _imports(path)} & names, path


def test_tests_never_reach_code_through_the_path():
    needle = "sys." + "path"
    users = [
        str(p.relative_to(ROOT))
        for p in _python_files(ROOT / "tests")
        if needle in p.read_text()
    ]
    assert users == []
