"""Project-specific static rules (issue 8): patterns that open security holes fail the suite."""

import ast
import re
from pathlib import Path

import pytest

APPS = ["config", "crm", "privacy", "registers"]


def source_files():
    for app in APPS:
        for path in Path(app).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def test_the_rules_see_the_project():
    assert len(list(source_files())) > 20


@pytest.mark.parametrize("path", list(source_files()), ids=str)
def test_no_csrf_exemptions(path):
    assert "csrf_exempt" not in path.read_text(), "every state change must carry a CSRF token"


@pytest.mark.parametrize("path", list(source_files()), ids=str)
def test_forms_and_admins_list_their_fields(path):
    assert not re.search(r"fields\s*=\s*[\"']__all__[\"']", path.read_text()), "list fields explicitly"


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            yield node


@pytest.mark.parametrize("path", list(source_files()), ids=str)
def test_no_raw_sql_built_from_strings(path):
    tree = ast.parse(path.read_text())
    for call in _calls(tree):
        if call.func.attr in {"execute", "raw", "extra", "executemany"} and call.args:
            query = call.args[0]
            built = isinstance(query, ast.JoinedStr) or (
                isinstance(query, ast.BinOp) and isinstance(query.op, ast.Add | ast.Mod)
            )
            if isinstance(query, ast.Call) and isinstance(query.func, ast.Attribute):
                built = built or query.func.attr == "format"
            assert not built, f"{path}:{call.lineno} builds SQL from strings; pass parameters instead"


@pytest.mark.parametrize("path", [p for p in source_files() if p.name.startswith("views")], ids=str)
def test_views_fetch_objects_only_through_scoped_selectors(path):
    tree = ast.parse(path.read_text())
    for call in _calls(tree):
        owner = call.func.value
        unscoped = (
            call.func.attr in {"get", "get_object_or_404"}
            and isinstance(owner, ast.Attribute)
            and owner.attr == "objects"
            and any(k.arg in {"pk", "id", "code"} for k in call.keywords)
        )
        assert not unscoped, f"{path}:{call.lineno} fetches by key without a permission-aware selector"


@pytest.mark.parametrize("path", [p for p in source_files() if p.name.startswith("views")], ids=str)
def test_views_do_not_call_get_object_or_404_on_bare_models(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "get_object_or_404" and node.args:
            target = node.args[0]
            assert not isinstance(target, ast.Name) or not target.id[:1].isupper(), (
                f"{path}:{node.lineno} looks up a bare model; scope the queryset by the user's registers"
            )
