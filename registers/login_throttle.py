"""Sign-in throttling: a lock per username and a throttle per address.

django-axes counted failures per (username, address) pair, so a locked user
signed in at once from another address, and one address could try any number
of usernames. Here failures count twice, each within the cool-off:

- per username, from every address: AXES_FAILURE_LIMIT failures lock the
  account (known or not: the page says the same for unknown usernames);
- per address, over every username: LOGIN_ADDRESS_FAILURE_LIMIT failures
  throttle the address. The limit is higher because an office behind one
  address carries many people's typing errors.

A success clears only the signed-in username's own failures: clearing the
address's (as axes does for its lockout parameters) would let anybody with an
account wipe the count of the usernames they were guessing.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum

# axes stores usernames in 255 characters (no account's name is longer than 150), and
# PostgreSQL refuses NUL bytes in text: an attempt that named either would end in a 500.
USERNAME_MAX_LENGTH = 255


def attempt_username(request, credentials=None) -> str | None:
    """Return the username a sign-in attempt names, as the attempt log can store it."""
    source = credentials or getattr(request, "data", request.POST)
    username = source.get(settings.AXES_USERNAME_FORM_FIELD)
    if not isinstance(username, str):
        return username
    return username.replace("\x00", "")[:USERNAME_MAX_LENGTH]


def _sum(attempts) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class LoginThrottleHandler(AxesDatabaseHandler):
    def _recent(self, request):
        attempts = AccessAttempt.objects.all()
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        return attempts

    def get_failures(self, request, credentials=None) -> int:
        recent = self._recent(request)
        by_username = _sum(recent.filter(username=get_client_username(request, credentials)))
        by_address = _sum(recent.filter(ip_address=request.axes_ip_address))
        # axes compares one number with AXES_FAILURE_LIMIT: a throttled
        # address reports the username limit itself.
        if by_address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(by_username, get_failure_limit(request, credentials))
        return by_username

    def reset_user_attempts(self, request, credentials=None) -> int:
        count, _ = AccessAttempt.objects.filter(username=get_client_username(request, credentials)).delete()
        return count
