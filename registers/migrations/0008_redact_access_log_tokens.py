"""Remove the secret tokens from the paths stored in access entries written before `log_access` redacted them.

The links sent to data subjects (an answer package, a request's status page, a
consent withdrawal) carry a signed token that opens the data to whoever holds
it; the audit trail must not keep a working copy. The rule is frozen here (not
imported from registers.access_log) so the migration keeps doing what it did
when the code changes.
"""

import json
import re

from django.db import migrations

ACCESS = 3
MARK = "[redacted]"
# A Django signed value: "value:signature" or "value:timestamp:signature".
SIGNED_SEGMENT = re.compile(r"^[^/:]+(?::[A-Za-z0-9_-]+)*:[A-Za-z0-9_-]{20,}$")
# The public token routes as they were when this migration was written.
TOKEN_ROUTES = (
    re.compile(r"^(/privacy/request/(?:confirm|status|answer|consent)/)[^/]+"),
    re.compile(r"^(/accounts/reset/)[^/]+/[^/]+"),
)


def _redact_path(path: str) -> str:
    for route in TOKEN_ROUTES:
        path = route.sub(lambda m: m.group(1) + MARK + ("/" + MARK if "reset" in m.group(1) else ""), path)
    return "/".join(MARK if SIGNED_SEGMENT.match(segment) else segment for segment in path.split("/"))


def _redact(value):
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    if isinstance(value, str) and value.startswith("/"):
        return _redact_path(value)
    return value


def redact_access_log_tokens(apps, schema_editor):
    LogEntry = apps.get_model("auditlog", "LogEntry")
    entries = LogEntry.objects.filter(action=ACCESS, additional_data__isnull=False)
    for pk, data in entries.values_list("pk", "additional_data").iterator(chunk_size=2000):
        if isinstance(data, str):
            # Entries written as a JSON string (auditlog's own `additional_data` may be either).
            try:
                data = json.loads(data)
            except ValueError:
                continue
        if not isinstance(data, dict):
            continue
        redacted = _redact(data)
        if redacted != data:
            LogEntry.objects.filter(pk=pk).update(additional_data=redacted)


class Migration(migrations.Migration):
    dependencies = [
        ("auditlog", "0017_add_actor_email"),
        ("registers", "0007_totp_encrypted_keys"),
    ]

    operations = [migrations.RunPython(redact_access_log_tokens, migrations.RunPython.noop, elidable=True)]
