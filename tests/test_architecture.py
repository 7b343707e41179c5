"""The house rules that keep the package navigable (docs/ARCHITECTURE.md): imports flow from higher layers to lower
ones only, and no module grows past 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "openpose_py"
MAX_LINES = 400

#: Top-level module or sub-package -> layer; a module may import from its own layer or lower ones (docs/ARCHITECTURE.md).
LAYERS: dict[str, int] = {
    "errors": 0, "skeleton": 0, "atomic": 0, "images": 0, "limits": 0, "checks": 0,
    "results": 1, "models": 1, "codec": 1, "decode": 1, "grid": 1, "runs": 1,
    "weights": 2,
    "preprocess": 3, "backends": 3,
    "inference": 4, "parts": 4,
    "render": 5, "data": 5, "evaluate": 5, "response": 5, "track": 5, "video": 5,
    "controlnet": 5,
    "train": 6, "serve": 6,
    "multiview": 6,
    "cli": 7, "__init__": 7,
    "imageinfo": 0,
    "evaluate_parts": 5,
}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported openpose_py module) for every import in a file, relative ones resolved."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module.removesuffix(".__init__")
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            out += [(node.lineno, t) for t in names if t.startswith("openpose_py")]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("openpose_py")]
    return out


def test_every_module_has_a_layer_and_imports_flow_downwards():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent)
        unit = "__init__" if rel.parts[1:] == ("__init__.py",) else rel.parts[1].removesuffix(".py")
        assert unit in LAYERS, f"{rel}: add '{unit}' to the layers in docs/ARCHITECTURE.md and this test"
        for line, target in _imports(path):
            other = _unit(target)
            if other != unit and LAYERS.get(other, 99) > LAYERS[unit]:
                wrong.append(f"{rel}:{line} ({unit}, layer {LAYERS[unit]}) imports {target} (layer {LAYERS.get(other)})")
    assert not wrong, "\n".join(wrong)


def test_no_module_over_400_lines():
    long = [f"{p.relative_to(PACKAGE.parent)}: {n} lines" for p in sorted(PACKAGE.rglob("*.py"))
            if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert not long, "\n".join(long)


#: Import cycles still in the package, left for a later round (docs/ARCHITECTURE.md); no new one may appear.
KNOWN_MODULE_CYCLES: tuple[set[str], ...] = ()
KNOWN_ROOM_CYCLES: tuple[set[str], ...] = ()


def _module_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (lazy and type-only imports included; not its own packages)."""
    modules = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
               for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for _, target in _imports(path):
            while target not in modules and "." in target:  # a name imported from a module: that module
                target = target.rsplit(".", 1)[0]
            # a module importing its own package (which Python has loaded before it) closes no cycle
            if target in modules and not module.startswith(target + ".") and target != module:
                targets.add(target)
        graph[module] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_new_import_cycles_between_modules_or_rooms():
    graph = _module_graph()
    rooms: dict[str, set[str]] = {}
    for module, targets in graph.items():
        room = _unit(module)
        rooms.setdefault(room, set()).update(_unit(t) for t in targets if _unit(t) != room)
    new = [c for c in _cycles(graph) if c not in KNOWN_MODULE_CYCLES]
    new += [c for c in _cycles(rooms) if c not in KNOWN_ROOM_CYCLES]
    assert not new, f"import cycles: {new}"
    # a cycle once removed must leave the list, so that it cannot come back unnoticed
    assert all(c in _cycles(graph) for c in KNOWN_MODULE_CYCLES) and all(c in _cycles(rooms) for c in KNOWN_ROOM_CYCLES)
