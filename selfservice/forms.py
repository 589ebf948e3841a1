from django import forms
from django.utils.translation import gettext_lazy as _

from privacy.requests.forms import PublicRequestForm
from privacy.requests.models import DataSubjectRequest


class IdentifiedRequestForm(PublicRequestForm):
    """The public request form without what the sign-in already told: who the person is. Acting for someone
    else needs a mandate and a handler's check, so it stays on the public form."""

    delivery = forms.ChoiceField(
        label=_("How do you want the answer?"),
        choices=[
            (DataSubjectRequest.Delivery.ELECTRONIC, _("On these “my data” pages")),
            (DataSubjectRequest.Delivery.POST, _("By post")),
        ],
        widget=forms.RadioSelect,
        initial=DataSubjectRequest.Delivery.ELECTRONIC,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("requester_name", "requester_email", "acting_for", "mandate", "website"):
            del self.fields[name]

    @property
    def is_robot(self) -> bool:
        return False

    def request_data(self) -> dict:
        data = super().request_data()
        for name in ("requester_name", "requester_email", "acting_for", "mandate"):
            data.pop(name, None)
        return data
