"""Health, readiness and metrics, for machines: the load balancer, the platform's readiness gate, the scraper.

None of them needs a session: they are open without signing in, so the commitment gate lets them through too
(registers.middleware), and a probe sends no cookie for the session or two-factor gates to act on. They read
nothing a session, the CSRF token or the language would store, so they set no cookie, and they read no personal
data, so they write no access-log entry.
"""

import secrets

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from prometheus_client.exposition import choose_encoder

from .metrics import scrape_registry
from .readiness import FAILING, readiness


@login_not_required
@require_safe
def healthz(request):
    """Answer that the process is alive and serving requests; ask nothing of the database or the cache."""
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


@login_not_required
@require_safe
def readyz(request):
    """Answer 200 if the database, the cache and the broker each answer, else 503 naming those that do not."""
    checks = readiness()
    failing = [name for name, outcome in checks.items() if outcome == FAILING]
    if failing:
        return JsonResponse({"status": FAILING, "checks": checks, "failing": failing}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})


def _bearer_token_matches(request) -> bool:
    expected = settings.METRICS_TOKEN
    scheme, _space, presented = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return secrets.compare_digest(presented.strip().encode(), expected.encode())


# Exempt from the CSRF check, which would answer a POST with 403 and so tell that the address exists; a request
# without the token gets the same 404 as any unknown address, whatever its method. Nothing here changes anything.
@csrf_exempt
@login_not_required
def metrics(request):
    """Serve the Prometheus metrics to a scraper that sends METRICS_TOKEN as a bearer token; 404 to anyone else."""
    if not _bearer_token_matches(request):
        raise Http404
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(scrape_registry()), content_type=content_type)
