"""No import cycles between relance's packages and top-level modules: each layer can be read,
tested and replaced on its own. Imports under `if TYPE_CHECKING:` do not run and do not count;
imports inside functions run, and do."""

from __future__ import annotations

import grimp


def _layers() -> dict[str, set[str]]:
    """For each package or top-level module of relance, the others it imports."""
    graph = grimp.build_graph("relance", exclude_type_checking_imports=True)
    imports: dict[str, set[str]] = {}
    for module in graph.modules:
        layer = _layer(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if _layer(imported) != layer:
                imports.setdefault(layer, set()).add(_layer(imported))
    return imports


def _layer(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """The groups of layers that import one another, directly or through others (Tarjan)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(layer: str) -> None:
        order[layer] = low[layer] = len(order)
        stack.append(layer)
        for other in sorted(imports.get(layer, ())):
            if other not in order:
                visit(other)
                low[layer] = min(low[layer], low[other])
            elif other in stack:
                low[layer] = min(low[layer], order[other])
        if low[layer] == order[layer]:
            group = []
            while (top := stack.pop()) != layer:
                group.append(top)
            if group:
                groups.append(sorted([layer, *group]))

    for layer in sorted(imports):
        if layer not in order:
            visit(layer)
    return groups


def test_no_package_imports_another_that_imports_it_back() -> None:
    imports = _layers()
    cycles = _cycles(imports)
    mutual = sorted(
        f"{a} <-> {b}" for a in imports for b in imports[a] if a < b and a in imports.get(b, ())
    )
    assert not cycles, f"import cycles between {cycles}; pairs that import each other: {mutual}"


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above could pass by finding nothing: it finds a cycle through three layers."""
    cyclic = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(cyclic) == [["a", "b", "c"]]
