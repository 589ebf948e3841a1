"""Benchmark the Helsinki-profile GDPR API's GET on PostgreSQL (issue 19; target: p50 <= 1 s for a person with
2,000 interactions in 3 registers among 100,000 customers; the profile's own timeout is 5 s).

    createdb -h 127.0.0.1 -U postgres rekisteri_bench_gdpr
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rekisteri_bench_gdpr .venv/bin/python bench/gdpr_api.py

On demand, never in CI. The database is migrated if needed and, the first time, filled by `generate_data` in a
child process (100,000 customers in one register). Each run adds the person anew: a customer with the same
profile id in that register and two more, with 2,000 interactions between them (bulk insert, test data). A local
HTTP server stands in for the profile's Keycloak (discovery document and JWKS of a fresh RSA key), and the call
goes through Django's test client with a signed token: the whole stack is measured (JWT check with the cached
JWKS, the collector, the Node tree, one access-log entry per record).
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
for name, value in {
    "SECRET_KEY": "bench-secret-key-that-is-long-enough-for-django-checks-0123456789",
    "TOTP_ENCRYPTION_KEY": "dGVzdC10b3RwLWtleS1ub3QtZm9yLXByb2R1Y3Rpb24=",
    "ARCHIVE_ENCRYPTION_KEY": "dGVzdC1hcmNoaXZlLWtleS1ub3QtZm9yLXByb2R1Y3Q=",
    "ALLOWED_HOSTS": "localhost,testserver",
    "SITE_URL": "http://localhost",
    "HTTPS": "false",
}.items():
    os.environ.setdefault(name, value)
os.environ.pop("DEBUG", None)

SLUG = "bench-gdpr"
TARGET_MS = 1000.0
AUDIENCE = "bench-gdpr-api"


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def fill(customers: int) -> None:
    from registers.models import Register

    if Register.objects.filter(slug=SLUG).exists():
        return
    started = time.monotonic()
    command = [sys.executable, "manage.py", "generate_data", "--register", SLUG, "--customers", str(customers)]
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    print(f"{customers} customers generated in {time.monotonic() - started:.0f} s", flush=True)


def issuer(key) -> str:
    """Serve the discovery document and JWKS of `key` on a local port; return the issuer URL."""
    import jwt

    jwk = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": "bench", "use": "sig"}
    documents = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = documents.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps(body or {}).encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}/realms/bench"
    documents["/realms/bench/.well-known/openid-configuration"] = {"issuer": base, "jwks_uri": f"{base}/certs"}
    documents["/realms/bench/certs"] = {"keys": [jwk]}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return base


def person(register, interactions: int) -> uuid.UUID:
    """Add the person: the same profile id in the big register and two new ones, with their history."""
    from django.utils import timezone

    from crm.models import Customer, Interaction, Invoice
    from tests.factories import PersonCustomerFactory, RegisterFactory

    profile_id = uuid.uuid4()
    # Slugs of their own: the factories' sequences start again in each run.
    registers = [
        register,
        RegisterFactory(organisation=register.organisation, slug=f"bench-gdpr-{profile_id.hex[:8]}-a"),
        RegisterFactory(slug=f"bench-gdpr-{profile_id.hex[:8]}-b", name_fi=f"Toinen rekisteri {profile_id.hex[:8]}"),
    ]
    customers = [
        PersonCustomerFactory(register=r, profile_id=profile_id, first_name="Anna", last_name="Asiakas")
        for r in registers
    ]
    now = timezone.now()
    rows = [
        Interaction(
            customer=customers[n % len(customers)],
            kind=Interaction.Kind.MEETING,
            subject=f"Tapaaminen {n}",
            text="Neuvonta yrityksen kasvusta ja rahoituksesta. " * 4,
            occurred_at=now - datetime.timedelta(hours=n),
        )
        for n in range(interactions)
    ]
    Interaction.objects.bulk_create(rows, batch_size=1000)
    for customer in customers:
        Invoice.objects.create(customer=customer, number=f"B-{uuid.uuid4().hex[:8]}", amount="50.00", due_date=now)
    assert Customer.objects.filter(profile_id=profile_id).count() == 3
    return profile_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    import django

    django.setup()
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from crm.models import Customer
    from registers.models import Register

    assert connection.vendor == "postgresql", "set DATABASE_URL to a PostgreSQL database"
    call_command("migrate", verbosity=0)
    fill(args.customers)
    register = Register.objects.get(slug=SLUG)
    print(f"customers in the database: {Customer.objects.count()}", flush=True)
    profile_id = person(register, args.interactions)

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.GDPR_API_ISSUER = issuer(key)
    settings.GDPR_API_AUDIENCE = AUDIENCE
    claims = {
        "iss": settings.GDPR_API_ISSUER,
        "aud": AUDIENCE,
        "sub": str(uuid.uuid4()),
        "exp": int(time.time()) + 3600,
        "authorization": {"permissions": [{"scopes": ["gdprquery"]}]},
    }
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "bench"})
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = f"/gdpr-api/v1/profiles/{profile_id}"

    first = client.get(url)  # fetches and caches the discovery document and the JWKS
    assert first.status_code == 200, (first.status_code, first.content[:300])
    size = len(first.content)
    times = []
    for _run in range(args.runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        client.get(url)
    print(
        f"GDPR API GET, 3 records with {args.interactions} interactions ({size / 1024:.0f} KiB of JSON): "
        f"p50 {statistics.median(times):.0f} ms, max {max(times):.0f} ms, {counter.count} queries "
        f"(target <= {TARGET_MS:.0f} ms p50)",
        flush=True,
    )
    missing = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    started = time.perf_counter()
    assert missing.get(f"/gdpr-api/v1/profiles/{uuid.uuid4()}").status_code == 204
    print(f"GDPR API GET of an unknown profile: {(time.perf_counter() - started) * 1000:.0f} ms", flush=True)


if __name__ == "__main__":
    main()
