import datetime

import factory
from django.utils import timezone

from followups.models import FollowUp

from ..factories import CustomerFactory, UserFactory


class FollowUpFactory(factory.django.DjangoModelFactory):
    """A follow-up as stored; tests of the rules go through followups.services instead."""

    class Meta:
        model = FollowUp

    customer = factory.SubFactory(CustomerFactory)
    assignee = factory.SubFactory(UserFactory)
    due_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=3))
    note = factory.Sequence(lambda n: f"Soita takaisin {n}")
