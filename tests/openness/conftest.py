import random

import pytest


@pytest.fixture
def client(client):
    """The test client with an address of its own: the public form counts requests per address in the shared
    cache (Redis in CI) for an hour, and 127.0.0.1 is every other test's address too, the browser tests' included."""
    client.defaults["REMOTE_ADDR"] = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    return client
