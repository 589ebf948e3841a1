import pytest

from .s3 import Bucket, S3Server


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server, one per test process (each xdist worker has its own)."""
    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_storage_settings(s3_server):
    return s3_server.storage_settings()


@pytest.fixture
def s3_bucket(s3_server, s3_storage_settings, settings, tmp_path):
    """Point the default storage, and so every FileField, at a new empty bucket; return the bucket.

    MEDIA_ROOT points at an empty folder that must still be empty after the test: a file written there instead of
    to the storage would be on one node's disk, where another node's request or task would not find it.
    """
    bucket = Bucket(s3_server)
    local = tmp_path / "media"
    settings.MEDIA_ROOT = local
    options = {**s3_storage_settings["OPTIONS"], "bucket_name": bucket.name}
    # The setting_changed signal resets django.core.files.storage.storages and default_storage (a LazyObject,
    # which every FileField holds as its storage), here and again when the test ends.
    settings.STORAGES = {**settings.STORAGES, "default": {**s3_storage_settings, "OPTIONS": options}}
    yield bucket
    on_disk = sorted(str(path) for path in local.rglob("*") if path.is_file()) if local.exists() else []
    bucket.remove()
    assert not on_disk, f"Files written to the node's own disk instead of the storage: {on_disk}"
