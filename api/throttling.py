"""Each client's own rate (APIClient.rate_per_minute), counted in the shared cache; 429 with Retry-After."""

from rest_framework.throttling import SimpleRateThrottle

from .authentication import request_client


class ClientRateThrottle(SimpleRateThrottle):
    cache_format = "api-throttle:%(ident)s"

    def __init__(self):
        # The rate is the client's, known only once the request is authenticated.
        self.rate = None

    def allow_request(self, request, view):
        client = request_client(request)
        if client is None:
            return True
        self.rate = f"{client.rate_per_minute}/min"
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        return self.cache_format % {"ident": request_client(request).prefix}
