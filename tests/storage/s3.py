"""A local S3-compatible server for the storage tests (issue 23): moto's standalone server on a loopback port.

The default storage the tests switch to is the one config/settings.py builds from the variables a production
node sets (FILE_STORAGE=s3 and S3_*), read by running the settings module again with them: the tests run the
options production runs, not a copy of them that could drift. Only the bucket differs, one per test.
"""

import importlib.util
import logging
import os
import runpy
import uuid
from unittest import mock

import boto3
from django.conf import settings
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
ACCESS_KEY = "rekisteri-test"
# moto accepts any key: no real service is reached.
SECRET_KEY = "rekisteri-test-secret"
# A prefix, as a bucket shared with other applications would have: every name the application uses lies under it.
PREFIX = "rekisteri"


class S3Server:
    """moto's S3 on 127.0.0.1 and a free port, in a thread of this process."""

    def __init__(self):
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint = ""

    def start(self) -> "S3Server":
        # Its request log would land in every captured test log.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def storage_settings(self) -> dict:
        """Return STORAGES["default"] as config/settings.py builds it for this server (bucket to be filled in)."""
        environment = {
            "FILE_STORAGE": "s3",
            "S3_BUCKET": "set-per-test",
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_REGION": REGION,
            "S3_ACCESS_KEY_ID": ACCESS_KEY,
            "S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "S3_PREFIX": PREFIX,
            "S3_SSE": "true",
        }
        with mock.patch.dict(os.environ, environment):
            # The module's file, run afresh: the imported module keeps the values of the test environment.
            built = runpy.run_path(importlib.util.find_spec(settings.SETTINGS_MODULE).origin)
        return built["STORAGES"]["default"]


class Bucket:
    """A bucket of one test's own, and what it holds."""

    def __init__(self, server: S3Server):
        self.name = f"rekisteri-{uuid.uuid4().hex[:20]}"
        self._client = server.client()
        self._client.create_bucket(Bucket=self.name)

    def keys(self) -> set[str]:
        """Every object's key in the bucket, listed from the server itself (not through the application)."""
        keys = set()
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.name):
            keys.update(entry["Key"] for entry in page.get("Contents", ()))
        return keys

    def names(self) -> set[str]:
        """The keys as the application names its files (FieldFile.name): without the prefix."""
        return {key.removeprefix(f"{PREFIX}/") for key in self.keys()}

    def read(self, name: str) -> bytes:
        """Return an object's bytes as stored, by the application's name of it."""
        return self._client.get_object(Bucket=self.name, Key=f"{PREFIX}/{name}")["Body"].read()

    def encryption(self, name: str) -> str:
        return self._client.head_object(Bucket=self.name, Key=f"{PREFIX}/{name}").get("ServerSideEncryption", "")

    def remove(self) -> None:
        keys = self.keys()
        if keys:
            self._client.delete_objects(Bucket=self.name, Delete={"Objects": [{"Key": key} for key in keys]})
        self._client.delete_bucket(Bucket=self.name)
