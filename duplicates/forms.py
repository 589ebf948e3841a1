"""The side-by-side merge form: which record survives, which record each value comes from, and why."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.validators import FREE_TEXT_VALIDATORS

from .merging import field_label
from .services import ERROR_CHANGED

ERROR_VERSIONS = _("The form is out of date. Open the comparison again.")
REASON_MAX_LENGTH = 1000


def _shown(record, name: str) -> str:
    """The value as the comparison shows it: choice labels, dates as dates, "—" for nothing."""
    display = getattr(record, f"get_{name}_display", None)
    value = display() if display else getattr(record, name)
    return str(value) if value not in (None, "") else "—"


class MergeForm(forms.Form):
    """One radio row per field whose values differ, a survivor, the versions seen, a reason, an acknowledgement."""

    survivor = forms.ChoiceField(label=_("Record to keep"), widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=FREE_TEXT_VALIDATORS,
        help_text=_("For example: the same company entered twice, once without “Oy”."),
    )
    acknowledged = forms.BooleanField(
        label=_("I have seen the open requests, legal holds and restrictions above, as their handler."),
        required=False,
    )
    versions = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, records: list, fields: tuple[str, ...], defaults: dict[str, int], blocked: bool, **kw):
        super().__init__(*args, **kw)
        self.records = records
        self.by_code = {str(record.code): record for record in records}
        self.fields["survivor"].choices = [(str(record.code), record.display_name) for record in records]
        oldest = min(records, key=lambda record: (record.created_at, record.pk))
        self.fields["survivor"].initial = str(oldest.code)
        self.fields["versions"].initial = ",".join(f"{record.code}:{record.version}" for record in records)
        self.compared = []
        model = type(records[0])
        by_pk = {record.pk: record for record in records}
        for name in fields:
            values = [_shown(record, name) for record in records]
            if len(set(values)) < 2:
                continue
            self.fields[f"field_{name}"] = forms.ChoiceField(
                label=field_label(model, name),
                widget=forms.RadioSelect,
                choices=[(str(record.code), value) for record, value in zip(records, values, strict=True)],
                initial=str(by_pk[defaults[name]].code),
            )
            self.compared.append(name)
        if not blocked:
            del self.fields["acknowledged"]

    def field_rows(self):
        """(label, [(record, bound radio)]) per compared field, for the side-by-side table."""
        for name in self.compared:
            bound = self[f"field_{name}"]
            yield bound, list(zip(self.records, bound, strict=True))

    def survivor_choices(self):
        return list(zip(self.records, self["survivor"], strict=True))

    def clean_versions(self) -> dict[int, int]:
        versions = {}
        try:
            for part in self.cleaned_data["versions"].split(","):
                code, version = part.rsplit(":", 1)
                versions[self.by_code[code].pk] = int(version)
        except (KeyError, ValueError):
            raise forms.ValidationError(ERROR_VERSIONS) from None
        if len(versions) != len(self.records):
            raise forms.ValidationError(ERROR_VERSIONS)
        return versions

    def clean(self):
        cleaned = super().clean()
        versions = cleaned.get("versions")
        if "versions" in self.errors:
            # A hidden field's error would not show next to anything.
            self.add_error(None, self.errors.pop("versions"))
        elif versions and any(versions[record.pk] != record.version for record in self.records):
            self.add_error(None, ERROR_CHANGED)
        return cleaned

    def service_arguments(self) -> dict:
        survivor = self.by_code[self.cleaned_data["survivor"]]
        return {
            "survivor": survivor,
            "merged": [record for record in self.records if record.pk != survivor.pk],
            "choices": {name: self.by_code[self.cleaned_data[f"field_{name}"]].pk for name in self.compared},
            "versions": self.cleaned_data["versions"],
            "reason": self.cleaned_data["reason"],
            "acknowledged": self.cleaned_data.get("acknowledged", False),
        }


class UndoForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the undo"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=FREE_TEXT_VALIDATORS,
    )


class RecordSearchForm(forms.Form):
    """The comparison's search for another record to add, and the merge list's customer filter."""

    q = forms.CharField(required=False, max_length=200, validators=FREE_TEXT_VALIDATORS)
    customer = forms.UUIDField(required=False)
