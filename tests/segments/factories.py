import factory

from crm.models import CustomerTag, SavedView, Tag

from ..factories import CustomerFactory, RegisterFactory, UserFactory


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    register = factory.SubFactory(RegisterFactory)
    name = factory.Sequence(lambda n: f"Tapahtuma {n}")


class CustomerTagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerTag

    tag = factory.SubFactory(TagFactory)
    customer = factory.SubFactory(CustomerFactory, register=factory.SelfAttribute("..tag.register"))


class SavedViewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SavedView

    register = factory.SubFactory(RegisterFactory)
    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Näkymä {n}")
    query = factory.LazyFunction(dict)
    columns = factory.LazyFunction(list)
