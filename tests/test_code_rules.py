"""Project-specific static rules (issue 8): patterns that open security holes fail the suite."""

import ast
import re
from pathlib import Path

import pytest

APPS = [
    "api",
    "archive",
    "campaigns",
    "companies",
    "config",
    "crm",
    "duplicates",
    "followups",
    "imports",
    "ops",
    "privacy",
    "registers",
    "segments",
]


def source_files():
    for app in APPS:
        for path in Path(app).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def test_the_rules_see_the_project():
    assert len(list(source_files())) > 20


# The one exemption: the RFC 8058 one-click objection of a campaign message. The recipient's mail provider POSTs
# `List-Unsubscribe=One-Click` to the link without any CSRF token; the signed token in the URL is the authority,
# and the only thing the POST can do is stop marketing to that address. The view checks CSRF itself for every
# other POST (the page's own form).
# And the Prometheus scrape (ops/views.py): a machine with a bearer token, no session, answered 404 without the
# token whatever the method, so that a refused POST cannot tell a prober the path exists.
CSRF_EXEMPT_ALLOWED = {Path("campaigns/views.py"), Path("ops/views.py")}


@pytest.mark.parametrize("path", list(source_files()), ids=str)
def test_no_csrf_exemptions(path):
    if path in CSRF_EXEMPT_ALLOWED:
        assert path.read_text().count("@csrf_exempt") == 1, "only the one-click objection view is exempt"
        return
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


KEY_ARGUMENTS = {"pk", "id", "code"}
FETCHES = {"get", "first", "last", "get_object_or_404", "get_list_or_404"}


def _chain(node):
    """Yield the calls and attributes of a method chain, from the outermost inwards."""
    while isinstance(node, ast.Call | ast.Attribute | ast.Subscript):
        yield node
        node = node.func if isinstance(node, ast.Call) else node.value


def _keyed_manager_query(node) -> bool:
    """Tell whether an expression is a query on `Model.objects` that picks a row by its key."""
    links = list(_chain(node))
    on_manager = any(isinstance(link, ast.Attribute) and link.attr == "objects" for link in links)
    keyed = any(
        keyword.arg and keyword.arg.split("__")[0] in KEY_ARGUMENTS
        for link in links
        if isinstance(link, ast.Call)
        for keyword in link.keywords
    )
    return on_manager and keyed


def unscoped_fetches(source: str) -> list[int]:
    """Return the lines of `source` that fetch a row by key from a manager instead of a scoped selector.

    Catches `Model.objects.get(code=...)`, `Model.objects.filter(code=...).get()` and `.first()`/`.last()`,
    and `get_object_or_404(Model.objects..., code=...)` (the key may be in the call or in the query).
    """
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in FETCHES:
            continue
        if isinstance(node.func, ast.Name):
            keyed = node.args and (
                _keyed_manager_query(node.args[0])
                or (
                    any(k.arg and k.arg.split("__")[0] in KEY_ARGUMENTS for k in node.keywords)
                    and any(isinstance(link, ast.Attribute) and link.attr == "objects" for link in _chain(node.args[0]))
                )
            )
        else:
            keyed = _keyed_manager_query(node)
        if keyed:
            lines.append(node.lineno)
    return lines


def views_modules():
    return [p for p in source_files() if p.name.startswith("views") or "views" in p.parts[:-1]]


@pytest.mark.parametrize(
    "snippet",
    [
        "Customer.objects.get(code=code)",
        "Customer.objects.filter(code=code).get()",
        "Customer.objects.filter(pk=pk).first()",
        "Customer.objects.select_related('register').filter(id=pk).last()",
        "Customer.objects.filter(code__exact=code).get()",
        "get_object_or_404(Customer.objects, code=code)",
        "get_object_or_404(Customer.objects.select_related('register'), pk=pk)",
        "get_object_or_404(Customer.objects.filter(code=code))",
    ],
)
def test_the_fetch_rule_catches_each_shape(snippet):
    assert unscoped_fetches(f"def view(request, code, pk):\n    return {snippet}\n") == [2]


@pytest.mark.parametrize(
    "snippet",
    [
        "selectors.customer_get_for_user(user=request.user, code=code)",
        "Customer.objects.filter(register__in=registers).first()",
        "get_object_or_404(selectors.customer_list(user=request.user), code=code)",
        "request.GET.get('code')",
        "form.cleaned_data.get('code')",
    ],
)
def test_the_fetch_rule_lets_scoped_reads_pass(snippet):
    assert unscoped_fetches(f"def view(request, code, pk):\n    return {snippet}\n") == []


def test_the_fetch_rule_sees_every_views_module():
    names = {str(path) for path in views_modules()}
    assert {"crm/views.py", "privacy/rights/views.py", "registers/views_audit.py"} <= names


@pytest.mark.parametrize("path", views_modules(), ids=str)
def test_views_fetch_objects_only_through_scoped_selectors(path):
    lines = unscoped_fetches(path.read_text())
    assert lines == [], f"{path} lines {lines} fetch by key without a permission-aware selector"


@pytest.mark.parametrize("path", views_modules(), ids=str)
def test_views_do_not_call_get_object_or_404_on_bare_models(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "get_object_or_404" and node.args:
            target = node.args[0]
            assert not isinstance(target, ast.Name) or not target.id[:1].isupper(), (
                f"{path}:{node.lineno} looks up a bare model; scope the queryset by the user's registers"
            )


# The one-way arrows between the apps (README, "Layout"): an app imports only apps listed before it. Apps on one
# line know nothing of each other.
LAYERS = [
    {"config"},
    {"registers", "companies"},
    {"crm"},
    {"followups"},
    {"segments"},
    {"privacy"},
    {"duplicates", "imports", "archive"},
    {"campaigns"},
    # The integration API reads and writes through every app below it; nothing imports it but the URL conf.
    {"api"},
    # Health, readiness and metrics read every app's figures; nothing imports it but the URL conf.
    {"ops"},
]
LAYER_OF = {app: index for index, layer in enumerate(LAYERS) for app in layer}


def imported_apps(tree) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & LAYER_OF.keys()


def test_every_app_has_a_layer():
    assert set(APPS) == set(LAYER_OF)


@pytest.mark.parametrize("path", [path for path in source_files() if path.parts[0] != "config"], ids=str)
def test_an_app_imports_only_the_apps_below_it(path):
    app = path.parts[0]
    above = {other for other in imported_apps(ast.parse(path.read_text())) if LAYER_OF[other] >= LAYER_OF[app] != 0} - {
        app
    }
    assert not above, f"{app} must not import {sorted(above)} (README, Layout: the arrows point one way)"
