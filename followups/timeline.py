"""Done follow-ups on the customer's timeline, at the time they were done (a `crm.timeline` source).

The row's columns are those of `crm.selectors.TIMELINE_COLUMNS`; `type` carries the register's slug, which
the row's edit and remove links need and the timeline does not otherwise pass to a source.
"""

from django.db.models import CharField, DecimalField, F, Value
from django.urls import reverse
from django.utils.translation import gettext as _

from .models import FollowUp

LETTER = "f"


def rows(customer):
    return (
        FollowUp.objects.filter(customer=customer, done_at__isnull=False)
        .order_by()
        .values(
            entry=Value(LETTER, output_field=CharField()),
            ref=F("code"),
            at=F("done_at"),
            type=F("customer__register__slug"),
            title=Value("", output_field=CharField()),
            body=F("note"),
            money=Value(None, output_field=DecimalField()),
            due=F("due_on"),
            person_first=F("contact_person__first_name"),
            person_last=F("contact_person__last_name"),
            staff_first=F("done_by__first_name"),
            staff_last=F("done_by__last_name"),
            staff_username=F("done_by__username"),
            staff_id=F("done_by_id"),
            row=F("id"),
        )
    )


def present(entry) -> dict:
    first, _newline, rest = (entry.text or "").strip().partition("\n")
    details = []
    if entry.contact_person:
        details.append(_("With %(name)s.") % {"name": entry.contact_person})
    if entry.staff_user:
        details.append(_("Done by %(name)s.") % {"name": entry.staff_user})
    kwargs = {"register": entry.kind, "followup": entry.code}
    return {
        "kind": _("Follow-up done"),
        "title": first.strip() or _("Follow-up"),
        "text": rest.strip(),
        "details": " ".join(details),
        "edit_url": reverse("followups:followup-update", kwargs=kwargs),
        "delete_url": reverse("followups:followup-delete", kwargs=kwargs),
    }
