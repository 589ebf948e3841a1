"""Every field the audit trail can show has a label in the reader's language, not an English name Django made up."""

import pytest
from auditlog.registry import auditlog
from django.utils.functional import Promise

from registers import audit


def audited_fields():
    for model in auditlog.get_models():
        excluded = set(auditlog._registry[model]["exclude_fields"] or ())
        for field in model._meta.concrete_fields:
            # The screens leave out what says nothing to a reader (ids, generated codes) and what auditlog skips.
            if field.name in excluded or audit._says_nothing(field):
                continue
            yield pytest.param(field, id=f"{model._meta.label}.{field.name}")


@pytest.mark.parametrize("field", list(audited_fields()))
def test_an_audited_field_has_a_translatable_label(field):
    assert isinstance(field.verbose_name, Promise), f"{field.model.__name__}.{field.name} has no translated label"
