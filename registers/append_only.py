"""Rows that are written once and never changed or deleted: a workflow's history of events.

A model takes `AppendOnlyModel` and names its refusal in `append_only_message`; its default manager
(`AppendOnlyQuerySet.as_manager()`) refuses bulk changes the same way, so neither a save of a stored row nor
`update`, `bulk_update` or `delete` on a queryset can rewrite the history.
"""

from django.core.exceptions import ValidationError
from django.db import models


def _refuse(model) -> None:
    raise ValidationError(model.append_only_message, code="append_only")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        _refuse(self.model)

    def delete(self):
        _refuse(self.model)

    def bulk_update(self, objs, fields, batch_size=None):
        _refuse(self.model)


class AppendOnlyModel(models.Model):
    append_only_message = ""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            _refuse(type(self))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse(type(self))
