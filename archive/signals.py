"""The files of a purged or deleted archive item leave the storage once the deletion has committed."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from crm.models import ContactCentreMessage, MessageAttachment


def _delete_after_commit(stored) -> None:
    if stored and stored.name:
        storage, name = stored.storage, stored.name
        transaction.on_commit(lambda: storage.delete(name))


@receiver(post_delete, sender=ContactCentreMessage, dispatch_uid="archive.message_file_delete")
def message_file_delete(sender, instance, **kwargs) -> None:
    _delete_after_commit(instance.raw)


@receiver(post_delete, sender=MessageAttachment, dispatch_uid="archive.attachment_file_delete")
def attachment_file_delete(sender, instance, **kwargs) -> None:
    _delete_after_commit(instance.file)
