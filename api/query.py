"""The query parameters every list of the API shares: the moment of a client's last sync."""

import datetime

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

ERROR_MODIFIED_SINCE = _("Give an ISO 8601 date and time with its offset, for example 2026-01-31T12:00:00+02:00.")


class ModifiedSinceField(serializers.Field):
    """An ISO 8601 moment with its offset, as UTC. A time without an offset is refused, not guessed: around the
    change to and from summer time a local time names two moments or none, and a sync must not skip changes."""

    default_error_messages = {"invalid": ERROR_MODIFIED_SINCE}

    def to_internal_value(self, data):
        try:
            moment = parse_datetime(str(data).strip())
            # In UTC, as the database compares it: a moment at the calendar's edge has no UTC time.
            moment = moment.astimezone(datetime.UTC) if moment is not None and moment.tzinfo is not None else None
        except (ValueError, OverflowError):
            moment = None
        if moment is None:
            self.fail("invalid")
        return moment

    def to_representation(self, value):
        return value.isoformat()


class SyncQuerySerializer(serializers.Serializer):
    """The query of a list: changes since a moment (a client's last sync)."""

    modified_since = ModifiedSinceField(
        required=False, help_text=_("Only rows changed at or after this moment (ISO 8601, with its offset).")
    )


# The parameter as the OpenAPI document shows it, on every list that filters by it.
MODIFIED_SINCE_PARAMETER = OpenApiParameter(
    "modified_since",
    OpenApiTypes.DATETIME,
    description="Only rows changed at or after this moment (ISO 8601 with its offset), for synchronisation.",
)
