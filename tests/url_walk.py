"""The project's URL patterns, for the tests that try every route (permission matrix, fuzz, URL families)."""

import re

from django.urls import URLPattern, URLResolver, get_resolver

# A path converter in a route: <uuid:code>, <slug:register>, <token>.
CONVERTER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")


def walk(patterns, prefix=""):
    """Yield (route, namespaced URL name or None, view) for every pattern below `patterns`."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{pattern.namespace}:" if pattern.namespace else ""
            for route, name, view in walk(pattern.url_patterns, prefix + str(pattern.pattern)):
                yield route, (namespace + name) if name else None, view
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name, pattern.callback


def project_routes() -> list[tuple[str, str | None, object]]:
    return list(walk(get_resolver().url_patterns))
