"""The import rules docs/ARCHITECTURE.md states, checked on the source: core/ is the service layer
(no Qt, nothing from the window, the command line or the generators), generators/ depend on
nothing above core/, and the folders of ui/ depend on each other without a cycle."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import tdm_desktop
import tdm_desktop.core

PACKAGE = Path(tdm_desktop.__file__).parent
QT = ("PySide6", "shiboken6")
UI_ROOT_MODULES = {"app", "main_window", "actions", "services"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> Iterator[str]:
    """Every module ``path`` imports, wherever the import sits (also under TYPE_CHECKING or in a
    function: a lazy import is still a dependency)."""
    package = (
        module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    )
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def source_files(*under: str) -> list[Path]:
    return sorted(PACKAGE.joinpath(*under).rglob("*.py"))


def offending(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    """``"a.b imports c.d"`` for every import of ``files`` inside one of the ``forbidden`` ones."""
    return sorted(
        {
            f"{module_name(path)} imports {name}"
            for path in files
            for name in imports_of(path)
            if any(name == bad or name.startswith(f"{bad}.") for bad in forbidden)
        }
    )


def test_core_imports_no_qt_nor_anything_above_it():
    above = ("tdm_desktop.ui", "tdm_desktop.cli", "tdm_desktop.generators", "tdm_desktop.demo",
             "tdm_desktop.local_s3", *QT)  # fmt: skip
    assert offending(source_files("core"), above) == []


def test_generators_import_nothing_above_core():
    above = ("tdm_desktop.ui", "tdm_desktop.cli", "tdm_desktop.demo", "tdm_desktop.local_s3", *QT)
    assert offending(source_files("generators"), above) == []


def ui_folder_of(module: str) -> str | None:
    """``tdm_desktop.ui.grid.view`` -> ``grid``; a module at the top of ui/ -> ``(root)``."""
    parts = module.split(".")
    if parts[:2] != ["tdm_desktop", "ui"] or len(parts) < 3:
        return None
    if parts[2] in UI_ROOT_MODULES or not PACKAGE.joinpath("ui", parts[2]).is_dir():
        return "(root)"
    return parts[2]


def ui_folder_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in source_files("ui"):
        here = ui_folder_of(module_name(path))
        if here is None or here == "(root)":
            continue
        edges = graph.setdefault(here, set())
        for name in imports_of(path):
            there = ui_folder_of(name)
            if there is not None and there != here:
                edges.add(there)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node], _ = "open", stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node], _ = "done", stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_ui_folders_never_import_the_window_that_assembles_them():
    graph = ui_folder_graph()
    assert len(graph) >= 9, sorted(graph)  # every folder was found
    assert {folder for folder, edges in graph.items() if "(root)" in edges} == set()


def test_ui_folders_depend_on_each_other_without_a_cycle():
    assert find_cycle(ui_folder_graph()) is None


def test_core_never_loads_qt_at_run_time():
    modules = [m.name for m in pkgutil.iter_modules(tdm_desktop.core.__path__, "tdm_desktop.core.")]
    assert len(modules) >= 8
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "import tdm_desktop.cli, tdm_desktop.generators\n"
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
