"""Imports point down the layers of DESIGN.md and never round in a circle.

Every module under bot/ and actions/ is parsed with ast; an import inside a function counts
like one at the top (it runs, only later). Imports under `if TYPE_CHECKING:` do not count:
they never run.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

import pytest

from bot.settings import PROJECT_DIR

# Bottom to top (DESIGN.md, "Layout"). A module may import from its own layer or below.
LAYERS: List[Tuple[str, ...]] = [
    # text, and top-level helpers: settings, the shop's profile, domain.yml's texts
    ("bot", "bot.text", "bot.settings", "bot.db", "bot.migrations", "bot.limits", "bot.signing", "bot.shop", "bot.catalogue"),
    ("bot.embedders", "bot.e5_finetuned"),
    ("bot.kb", "bot.nlu", "bot.nlg", "bot.action_schema", "bot.lock_store", "bot.sql_stores", "bot.handoff", "bot.analytics"),
    ("bot.channels", "actions", "bot.console"),
    # the `hotro` command and what only it runs: the process runner, the end-to-end evaluation
    ("bot.cli", "bot.stack", "bot.e2e", "bot.schema"),
]
# Arrows that break the rule today, each with the reason it is tolerated: (from, to) packages.
KNOWN_EXCEPTIONS: Set[Tuple[str, str]] = set()

LAYER_OF = {name: i for i, names in enumerate(LAYERS) for name in names}
ROOTS = ("bot", "actions")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path = PROJECT_DIR) -> Dict[str, Path]:
    modules = {}
    for top in ROOTS:
        for path in sorted((root / top).rglob("*.py")):
            modules[module_name(path, root)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST) -> Iterable[ast.stmt]:
    """Every import statement, at any depth, except under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from (n for child in node.orelse for n in _import_nodes(ast.Module([child], [])))
        else:
            yield from _import_nodes(node)


def imports_of(source: str, module: str, is_package: bool, known: Set[str]) -> Set[str]:
    """The project modules `source` (the text of `module`) imports."""
    package = module if is_package else module.rpartition(".")[0]
    out: Set[str] = set()
    for node in _import_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(parent + ([base] if base else []))
            # `from pkg import sub` imports the module pkg.sub when there is one
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for target in targets:
            while target and target not in known:  # `import bot.kb.search.x` -> the module part
                target = target.rpartition(".")[0]
            if target and target != module:
                out.add(target)
    return out


def import_graph(modules: Dict[str, Path]) -> Dict[str, Set[str]]:
    known = set(modules)
    return {name: imports_of(path.read_text(encoding="utf-8"), name, path.name == "__init__.py", known)
            for name, path in modules.items()}


def layer_package(module: str) -> str:
    """The entry of LAYERS a module belongs to (its longest prefix; "bot" only itself)."""
    best = ""
    for name in LAYER_OF:
        if (module == name or (name != "bot" and module.startswith(name + "."))) and len(name) > len(best):
            best = name
    return best


def upward_imports(graph: Dict[str, Set[str]]) -> List[str]:
    found = []
    for src, targets in sorted(graph.items()):
        for dst in sorted(targets):
            a, b = layer_package(src), layer_package(dst)
            if a and b and LAYER_OF[a] < LAYER_OF[b] and (a, b) not in KNOWN_EXCEPTIONS:
                found.append(f"{src} (layer {LAYER_OF[a]}) imports {dst} (layer {LAYER_OF[b]})")
    return found


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def package_graph(graph: Dict[str, Set[str]]) -> Dict[str, Set[str]]:
    out: Dict[str, Set[str]] = {}
    for src, targets in graph.items():
        a = layer_package(src)
        out.setdefault(a, set()).update(
            b for b in map(layer_package, targets) if b != a and (a, b) not in KNOWN_EXCEPTIONS)
    return out


@pytest.fixture(scope="module")
def graph() -> Dict[str, Set[str]]:
    return import_graph(project_modules())


# --- the tree as it is -----------------------------------------------------------------------


def test_every_module_has_a_layer(graph):
    assert [m for m in graph if not layer_package(m)] == [], "add the new package to LAYERS (DESIGN.md)"


def test_no_import_points_up(graph):
    assert upward_imports(graph) == []


def test_no_import_cycle_between_modules(graph):
    assert cycles(graph) == []


def test_no_cycle_between_packages(graph):
    assert cycles(package_graph(graph)) == []


def test_the_graph_sees_the_imports_it_should(graph):
    # a lazy import inside a function counts: the FAQ router searches through the service
    assert "bot.kb.service" in graph["bot.nlu.faq_router"]
    assert "bot.embedders" in graph["bot.nlu.featurizer"]
    assert "bot.text.normalize" in graph["bot.text.language"]


# --- the checker finds what it should ----------------------------------------------------------


KNOWN = {"bot", "bot.text", "bot.text.normalize", "bot.text.language", "bot.kb", "bot.kb.search",
         "bot.nlu", "bot.nlu.tokenizer", "bot.channels", "bot.channels.zalo"}


def test_an_upward_import_inside_a_function_is_found():
    source = "def f():\n    from bot.channels.zalo import ZaloInput\n"
    graph = {"bot.kb.search": imports_of(source, "bot.kb.search", False, KNOWN)}
    assert upward_imports(graph) == ["bot.kb.search (layer 2) imports bot.channels.zalo (layer 3)"]


def test_a_cycle_through_relative_and_lazy_imports_is_found():
    graph = {
        "bot.text.normalize": imports_of("def g():\n    from .language import x\n", "bot.text.normalize", False, KNOWN),
        "bot.text.language": imports_of("from .normalize import normalize\n", "bot.text.language", False, KNOWN),
    }
    assert cycles(graph) == [["bot.text.language", "bot.text.normalize"]]


def test_a_cycle_between_packages_of_one_layer_is_found():
    graph = {"bot.kb.search": imports_of("from bot.nlu.tokenizer import segment\n", "bot.kb.search", False, KNOWN),
             "bot.nlu.tokenizer": imports_of("import bot.kb.search\n", "bot.nlu.tokenizer", False, KNOWN)}
    assert cycles(package_graph(graph)) == [["bot.kb", "bot.nlu"]]


def test_type_checking_imports_do_not_count():
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.channels import zalo\n"
    assert imports_of(source, "bot.kb.search", False, KNOWN) == set()
