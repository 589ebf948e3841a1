"""Keep pages out of browser and proxy caches unless a view says otherwise.

Nearly every page of the service shows personal data: customer records, data-subject
requests, audit trails, consents, the public status and answer links. A copy left in a
shared computer's cache or an intermediate proxy outlives the session that was allowed
to see it, so every response is `no-store` by default. A view that knows its content may
be cached (static files through WhiteNoise, which answers before this middleware runs)
sets `Cache-Control` itself and keeps it.
"""

NO_STORE = "no-store"


class NoStoreMiddleware:
    """Mark every response `Cache-Control: no-store` unless the view set its own cache policy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = NO_STORE
        return response
