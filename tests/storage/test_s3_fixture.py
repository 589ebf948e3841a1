"""The S3 fixture itself: the default storage and every model's FileField write to the test's bucket, with the
options config/settings.py gives production, and the storage follows the setting as it changes."""

from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.db.models import FileField
from django.test import override_settings
from storages.backends.s3 import S3Storage

from . import s3 as s3_helpers


def file_fields() -> list[FileField]:
    return [
        field
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, FileField) and field.model is model
    ]


def test_every_file_field_writes_through_the_default_storage_to_the_bucket(s3_bucket):
    fields = file_fields()
    assert len(fields) >= 8, "mandates, three package files, two import files and the archive's two"
    written = set()
    for field in fields:
        # A FileField given a storage of its own would write past the configured one, to one node's disk.
        assert field.storage is default_storage, field
        label = f"{field.model._meta.label_lower}.{field.name}"
        written.add(field.storage.save(f"probe/{label}", ContentFile(label.encode())))
    assert isinstance(default_storage, S3Storage)
    assert written == s3_bucket.names()
    name = written.pop()
    assert s3_bucket.read(name) == name.removeprefix("probe/").encode()
    assert s3_bucket.keys() >= {f"{s3_helpers.PREFIX}/{name}"}, "S3_PREFIX is applied"
    assert s3_bucket.encryption(name) == "AES256", "S3_SSE asks the server to encrypt at rest"


def test_the_storage_follows_the_setting_in_and_out(s3_bucket):
    assert isinstance(default_storage, S3Storage)
    assert default_storage.bucket_name == s3_bucket.name
    with override_settings(STORAGES={"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}):
        assert isinstance(default_storage, FileSystemStorage)
    assert isinstance(default_storage, S3Storage)
    assert default_storage.bucket_name == s3_bucket.name
