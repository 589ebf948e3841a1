"""Which register a row belongs to, found from the model's foreign keys.

The audit screens and the access log need the register of any audited row
(a customer, a contact person of a customer, a membership, a request) without
`registers` importing the apps that build on it. Each model reaches `Register`
through a short chain of foreign keys; the chain is found once per model.
"""

import functools

from django.db import models

from .models import Register

MAX_DEPTH = 3


@functools.cache
def register_path(model: type[models.Model]) -> tuple[str, ...] | None:
    """Return the foreign-key chain from `model` to `Register` (empty for Register itself), or None."""
    if model is Register:
        return ()
    return _search(model, depth=MAX_DEPTH, seen=frozenset({model}))


def _search(model, *, depth: int, seen: frozenset) -> tuple[str, ...] | None:
    fks = [f for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey)]
    # A direct `register` foreign key wins over longer chains (a message has
    # both `register` and `ordering_client__register`).
    for field in fks:
        if field.related_model is Register and field.name not in {"parent"}:
            return (field.name,)
    if depth <= 1:
        return None
    for field in fks:
        target = field.related_model
        if target in seen or target is None or target._meta.app_label in {"auth", "contenttypes"}:
            continue
        rest = _search(target, depth=depth - 1, seen=seen | {target})
        if rest is not None:
            return (field.name, *rest)
    return None


def register_of(obj: models.Model) -> Register | None:
    """Return the register a row belongs to, or None when it belongs to none (or to several)."""
    if isinstance(obj, Register):
        return obj
    path = register_path(obj._meta.model)
    if path is None:
        return None
    current = obj
    for name in path:
        current = getattr(current, name, None)
        if current is None:
            return None
    return current
