"""The library's layout: one subpackage per concern, dependencies pointing one way, no Streamlit in core."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core"

# What each part of core/ may import from core (besides itself). Lower layers never import higher ones.
ALLOWED = {
    "base": set(),
    "data": {"base"},
    "models": {"base"},
    "io": {"base", "data", "models"},
    "analysis": {"base", "data", "models", "io"},
    "training": {"base", "data", "models", "io", "analysis"},
    "library": {"base", "data", "models", "io", "analysis", "training"},
    "serving": {"base", "data", "models", "io", "analysis", "training", "library"},
}


def _imports(path: Path) -> list[str]:
    """Every module a file imports, including imports inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            if node.module == "core":
                found += [f"core.{alias.name}" for alias in node.names]
    return found


def _part(path: Path) -> str:
    rel = path.relative_to(CORE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def test_dependencies_point_one_way():
    wrong = []
    for path in sorted(CORE.rglob("*.py")):
        part = _part(path)
        if part not in ALLOWED:
            continue
        for module in _imports(path):
            parts = module.split(".")
            if parts[0] != "core" or len(parts) < 2 or parts[1] == part:
                continue
            if parts[1] not in ALLOWED[part]:
                wrong.append(f"{path.relative_to(ROOT)} imports {module}")
    assert wrong == []


def test_core_never_imports_streamlit():
    users = [
        str(p.relative_to(ROOT)) for p in CORE.rglob("*.py") if any(m.split(".")[0] == "streamlit" for m in _imports(p))
    ]
    assert users == []


def test_each_subpackage_says_what_it_holds_and_may_import():
    for package in ("base", "data", "models", "io", "analysis", "training", "library", "serving", "cli"):
        doc = ast.get_docstring(ast.parse((CORE / package / "__init__.py").read_text()))
        assert doc and "import" in doc.lower(), package


def test_the_top_of_core_holds_only_the_command_lines_entry_points():
    top = sorted(p.stem for p in CORE.glob("*.py") if p.name != "__init__.py")
    assert top == sorted(COMMANDS)
    assert sorted(p.stem for p in (CORE / "cli").glob("*.py") if p.stem not in ("__init__", "common")) == top


def test_dashboard_uses_only_public_names():
    private = []
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("core"):
                names = [a.name for a in node.names]
                if any(n.startswith("_") for n in names) or any(p.startswith("_") for p in node.module.split(".")):
                    private.append(f"{path.name}: from {node.module} import {', '.join(names)}")
                arch_file = node.module.startswith("core.models.")
                if arch_file:
                    private.append(f"{path.name}: from {node.module} (use core.models)")
    assert private == []


COMMANDS = [
    "train",
    "evaluate",
    "predict",
    "export",
    "sweep",
    "explain",
    "embed",
    "teach",
    "labels",
    "conv",
    "featurevis",
    "cluster",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_command_lines_are_thin_entry_points(command):
    source = (CORE / f"{command}.py").read_text()
    assert f"from core.cli.{command} import main" in source
    assert len(source.splitlines()) <= 10
