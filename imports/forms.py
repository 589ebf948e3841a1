"""Input of the import screens: the uploaded file, and the column mapping with the match mode."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .mapping import KIND_CUSTOMERS, importable_fields, mapping_errors
from .models import ImportBatch
from .reading import ERROR_TOO_LARGE, MAX_FILE_BYTES, FileRefused, read_table

ERROR_NO_FILE = _("Choose a file to import.")
HELP_FILE = _("CSV, Excel (.xlsx, .xls) or OpenDocument (.ods), at most %(limit)s MB. The first row names the columns.")
COLUMN_PREFIX = "column_"
MATCH_MODE_CHOICES = [
    (ImportBatch.MatchMode.SKIP, _("Leave them as they are: rows of customers already in the register are skipped.")),
    (
        ImportBatch.MatchMode.FILL_EMPTY,
        _("Fill in what is missing: only the empty fields of an existing customer get the file's values."),
    ),
    (
        ImportBatch.MatchMode.OVERWRITE,
        _("Replace with the file's values: every mapped field of an existing customer gets the file's value."),
    ),
]


class UploadForm(forms.Form):
    """A customer file, checked by the importer's reader before anything is stored."""

    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=ImportBatch.Kind.choices,
        initial=ImportBatch.Kind.CUSTOMERS,
        required=False,
        help_text=_(
            "Contact persons and interactions are linked to customers already in the register by business ID "
            "(interactions also by the customer's e-mail address)."
        ),
    )
    file = forms.FileField(
        label=_("File"),
        error_messages={"required": ERROR_NO_FILE, "empty": ERROR_NO_FILE},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.xls,.ods"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Worded here, not at import: the reader's language is known only now.
        self.fields["file"].help_text = HELP_FILE % {"limit": MAX_FILE_BYTES // (1024 * 1024)}

    def clean_kind(self):
        return self.cleaned_data["kind"] or ImportBatch.Kind.CUSTOMERS

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > MAX_FILE_BYTES:
            raise ValidationError(ERROR_TOO_LARGE, code="too_large", params={"limit": MAX_FILE_BYTES // (1024 * 1024)})
        try:
            # Read now so a file the importer cannot read is refused here, before a batch is stored.
            read_table(file, file_name=file.name or "")
        except FileRefused as error:
            raise ValidationError(error.messages, code="refused") from None
        file.seek(0)
        return file


class MappingForm(forms.Form):
    """One select per column of the file (a register field or nothing) and what to do with existing customers."""

    match_mode = forms.ChoiceField(
        label=_("Customers already in the register"),
        help_text=_("A row matches an existing customer by business ID, or else by e-mail address."),
        choices=MATCH_MODE_CHOICES,
        widget=forms.RadioSelect,
    )

    def __init__(
        self, *args, register, headers: list[str], samples: list[list[str]], kind: str = KIND_CUSTOMERS, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.register = register
        self.kind = kind
        if kind != KIND_CUSTOMERS:
            # Contact persons and interactions are only ever added: there is nothing to match or update.
            del self.fields["match_mode"]
        fields = importable_fields(register=register, kind=kind)
        choices = [("", _("(not imported)")), *((name, str(label).capitalize()) for name, label in fields)]
        self.columns = []
        for index, header in enumerate(headers):
            name = f"{COLUMN_PREFIX}{index}"
            self.fields[name] = forms.ChoiceField(
                label=header or _("Column %(number)s") % {"number": index + 1}, choices=choices, required=False
            )
            self.columns.append(
                {"field": self[name], "samples": [row[index] for row in samples if index < len(row) and row[index]]}
            )

    def clean(self):
        cleaned = super().clean()
        mapping = self.mapping()
        for message in mapping_errors(mapping, register=self.register, kind=self.kind):
            self.add_error(None, message)
        cleaned.setdefault("match_mode", ImportBatch.MatchMode.SKIP)
        return cleaned

    def mapping(self) -> dict[int, str]:
        """Return the chosen columns as {column index: field name}; valid only after `is_valid()`."""
        data = getattr(self, "cleaned_data", {})
        return {
            int(name.removeprefix(COLUMN_PREFIX)): value
            for name, value in data.items()
            if name.startswith(COLUMN_PREFIX) and value
        }


def mapping_initial(mapping: dict[int, str], match_mode: str) -> dict:
    """Return a MappingForm's initial values for a stored or suggested mapping."""
    return {"match_mode": match_mode, **{f"{COLUMN_PREFIX}{index}": name for index, name in mapping.items()}}
