"""The package's layers: a lower subpackage never imports a higher one, so the path from `fit` to a
loss never climbs back up (STYLE.md: no import circles between subpackages)."""

import ast
from collections import defaultdict
from graphlib import CycleError, TopologicalSorter

from conftest import PROJECT

PACKAGE = PROJECT / "lightning_xfer"


def unit_of(module: str) -> str | None:
    """`lightning_xfer.families.span_qa` -> `families`; top-level modules are their own unit."""
    parts = module.split(".")
    return parts[1] if parts[0] == "lightning_xfer" and len(parts) > 1 else None


def import_graph() -> dict[str, set[str]]:
    """Unit -> the units it imports, counting every import (function-level and TYPE_CHECKING too)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PROJECT).with_suffix("")
        source_unit = unit_of(".".join(relative.parts).removesuffix(".__init__"))
        if source_unit is None:
            continue
        graph[source_unit]
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                target = unit_of(name)
                is_unit = target and ((PACKAGE / target).is_dir() or (PACKAGE / f"{target}.py").is_file())
                if is_unit and target != source_unit:
                    graph[source_unit].add(target)
    return graph


def test_no_import_circles_between_subpackages():
    graph = import_graph()
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        raise AssertionError(f"import circle: {' -> '.join(error.args[1])}") from None
    position = {unit: order.index(unit) for unit in order}
    assert position["readers"] < position["families"] < position["tasks"] < position["data"] < position["cli"]
    assert position["heads"] < position["families"] < position["model"] < position["cli"]


def test_the_layers_named_in_the_readme():
    graph = import_graph()
    assert "tasks" not in graph["families"] and "data" not in graph["families"]
    assert "data" not in graph["encoder"] and "tasks" not in graph["submission"]
    assert "data" not in graph["tasks"]
