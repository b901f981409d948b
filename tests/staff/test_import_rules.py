"""The staff app sits on top of bookings: it never reaches into bookings' patient-facing views, and
nothing public (bookings, clinic) imports the staff workspace."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, by its dotted name (`from a import b` counts `a` and `a.b`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def python_files(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", python_files("staff"), ids=lambda path: path.name)
def test_staff_does_not_import_the_patient_views(path):
    assert not {"bookings.views", "bookings.api"} & imported_modules(path)


@pytest.mark.parametrize("path", python_files("bookings", "clinic", "treatments"), ids=str)
def test_public_code_does_not_import_the_staff_workspace(path):
    staff = {name for name in imported_modules(path) if name == "staff" or name.startswith("staff.")}
    assert not staff, f"{path.relative_to(ROOT)} imports {staff}"


def test_the_old_staff_modules_in_bookings_are_gone():
    left = [name for name in ("staff_views", "staff_forms", "staff_selectors", "staff_urls")
            if (ROOT / "bookings" / f"{name}.py").exists()]
    assert left == []


def test_the_rule_catches_an_import(tmp_path):
    """The walker sees both import forms (so the tests above can fail)."""
    module = tmp_path / "m.py"
    module.write_text("from bookings import views\nimport staff.forms\n")
    assert {"bookings.views", "staff.forms"} <= imported_modules(module)
