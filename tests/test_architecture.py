"""The house rules that the layout depends on, read from the source (no imports run):
- the runtime (colorcore/, backends/) never imports the lab (training/) or the benchmarks (bench/);
- no module of the runtime or the lab imports another in a circle, lazy (function-level) imports included."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ("colorcore", "backends")
LAB = ("training",)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(packages):
    return {module_name(p): p for pkg in packages for p in sorted((ROOT / pkg).rglob("*.py"))}


def imports_of(name: str, path: Path, known: set) -> set:
    """Every module `name` imports anywhere in its file (absolute names; `from pkg import sub` counts as sub)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            subs = {f"{target}.{alias.name}" for alias in node.names}
            found |= (subs & known) or {target}
    return found


def graph(packages):
    mods = modules(packages)
    return {name: {i for i in imports_of(name, path, set(mods)) if i in mods and i != name}
            for name, path in mods.items()}


def test_the_runtime_imports_nothing_from_the_lab_or_the_benchmarks():
    mods = modules(RUNTIME)
    offenders = {name: sorted(i for i in imports_of(name, path, set(mods))
                              if i.split(".")[0] in ("training", "bench"))
                 for name, path in mods.items()}
    assert not {k: v for k, v in offenders.items() if v}


def find_cycle(edges):
    """A cycle in a directed graph as a list of nodes, or None (iterative three-colour depth-first search)."""
    state = {}
    for start in edges:
        if state.get(start):
            continue
        stack = [(start, iter(sorted(edges[start])))]
        state[start], path = 1, [start]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
    return None


@pytest.mark.parametrize("packages", [RUNTIME, RUNTIME + LAB], ids=["runtime", "runtime+lab"])
def test_no_module_imports_another_in_a_circle(packages):
    edges = graph(packages)
    # the package's own __init__ re-exports its public API: a submodule importing `colorcore` means that API,
    # so edges from __init__ to its submodules are not counted as the submodules importing each other
    for pkg in ("colorcore",):
        edges[pkg] = set()
    assert find_cycle(edges) is None, find_cycle(edges)


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_import_reader_sees_lazy_and_relative_imports(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def run():\n    from .propagate import x\n    import training.gan.data\n")
    assert imports_of("backends.variational.plugin", f, {"backends.variational.propagate"}) == {
        "backends.variational.propagate", "training.gan.data"}
