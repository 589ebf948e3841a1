"""The one settings module.

Quick start, tests and production differ only in environment values, so the
settings that tests load are the ones production runs.
"""

import base64
import hashlib
import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from django_guid.integrations import CeleryIntegration

# Read by the settings as by the locks, so that the cache, the broker and the locks parse a Redis URL alike.
from registers.redis_client import quick_options, sentinel_hosts

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

# With DEBUG off there are no defaults for secrets and hosts: a missing value
# must stop the process rather than run with a guessable key.
if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default="insecure-quick-start-key-never-use-in-production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
else:
    SECRET_KEY = env("SECRET_KEY", default="")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be set to at least 50 characters when DEBUG is off.")
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must list the served host names when DEBUG is off.")

# HTTPS is on wherever DEBUG is off unless explicitly disabled (the test run
# serves plain HTTP on loopback).
HTTPS = env.bool("HTTPS", default=not DEBUG)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Registers OpClass as an index wrapper for the trigram indexes of customer search; inert on SQLite.
    "django.contrib.postgres",
    "csp",
    "django_otp",
    # Not django_otp.plugins.otp_totp: it stores secrets in clear; registers/totp.py replaces it.
    "django_otp.plugins.otp_static",
    "guardian",
    "auditlog",
    "axes",
    "django_htmx",
    "django_celery_beat",
    "phonenumber_field",
    "registers",
    "companies",
    "crm",
    "followups",
    "segments",
    "privacy",
    "duplicates",
    "imports",
    "archive",
    "campaigns",
    # The integration API (issue 19): REST framework, OpenAPI, per-client keys, the Helsinki-profile GDPR API.
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "selfservice",
    "openness",
    # Several machines (issue 23): request ids, Prometheus metrics, health and readiness.
    "django_guid",
    "django_prometheus",
    "ops",
]

MIDDLEWARE = [
    "django_guid.middleware.guid_middleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "registers.cache_control.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "registers.access.RequestAccessMiddleware",
    "registers.language.UserLanguageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "registers.middleware.CommitmentRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "registers.sessions.SessionTimeoutMiddleware",
    "registers.two_factor.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "registers.middleware.AuditlogMiddleware",
    "axes.middleware.AxesMiddleware",
    # After every other middleware: a write anywhere in the request pins its session to the primary database.
    "registers.replica.ReplicaPinMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "registers.context_processors.user_registers",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
POSTGRESQL = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# Several machines (issue 23, docs/deploy.md): a pool of connections in each process, or pgbouncer in transaction
# mode in front of PostgreSQL, or both; and an optional streaming replica for reports, statistics and exports.
DATABASE_POOL = env.bool("DATABASE_POOL", default=False)
DATABASE_PGBOUNCER = env.bool("DATABASE_PGBOUNCER", default=False)
if POSTGRESQL:
    # django-environ makes OPTIONS only for a URL with query options.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # A primary that cannot be reached fails a request (and /readyz) in seconds rather than at the TCP timeout.
    DATABASES["default"]["OPTIONS"]["connect_timeout"] = env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    if DATABASE_POOL:
        # Django refuses persistent connections beside its pool: the pool keeps them.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
    if DATABASE_PGBOUNCER:
        # A transaction-mode pooler hands each transaction to any server connection: a named cursor or a prepared
        # statement made in one is gone in the next. Exports read in keyset chunks instead (crm/exports.py).
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = None
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db_url_config(DATABASE_REPLICA_URL)
    DATABASES["replica"].update({"CONN_HEALTH_CHECKS": True, "CONN_MAX_AGE": 0, "TEST": {"MIRROR": "default"}})
    _replica_timeout = env.int("DATABASE_REPLICA_CONNECT_TIMEOUT", default=2)
    DATABASES["replica"].setdefault("OPTIONS", {})["connect_timeout"] = _replica_timeout
# Only reads marked as reports, statistics or exports go to the replica, never a permission answer
# (registers/replica.py); a request that wrote stays on the primary, and so does the next one of its session.
DATABASE_ROUTERS = ["registers.replica.ReplicaRouter"]
# How long a session reads from the primary after it wrote (the replica's lag is normally well under a second).
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=10)
# A replica that failed is not tried again for this long; reports read the primary meanwhile.
REPLICA_RETRY_SECONDS = env.int("REPLICA_RETRY_SECONDS", default=30)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: one URL for all (REDIS_URL), or one each for the cache, the broker and the locks. Any of them may name
# Redis Sentinels instead of a server: sentinel://host1:26379/<db>;sentinel://host2:26379/<db> (the same database
# on every part: kombu reads the broker's database and password from the first part only), with the monitored
# master's name in REDIS_SENTINEL_MASTER (registers/redis_client.py).
REDIS_URL = env("REDIS_URL", default="")
CACHE_URL = env("CACHE_URL", default=REDIS_URL)
REDIS_SENTINEL_MASTER = env("REDIS_SENTINEL_MASTER", default="mymaster")
# Redis reached or given up on quickly: a page waits at most this long for a cache that is down.
REDIS_TIMEOUT_SECONDS = env.float("REDIS_TIMEOUT_SECONDS", default=0.5)


def _sentinels(url: str) -> tuple[list[tuple[str, int]], int]:
    """Return the (host, port) pairs of a sentinel:// URL list and the database every part of it names."""
    try:
        hosts, db, _username, _password = sentinel_hosts(url)
    except ValueError as error:
        raise ImproperlyConfigured(str(error)) from None
    return hosts, db


# A Sentinel that is down is passed over at once for the next one (registers/redis_client.py says why).
_SENTINEL_KWARGS = quick_options(REDIS_TIMEOUT_SECONDS)


if CACHE_URL.startswith("sentinel://"):
    _cache_sentinels, _cache_db = _sentinels(CACHE_URL)
    DJANGO_REDIS_CONNECTION_FACTORY = "django_redis.pool.SentinelConnectionFactory"
    _cache_location = f"redis://{REDIS_SENTINEL_MASTER}/{_cache_db}"
    _cache_client = {
        "CLIENT_CLASS": "django_redis.client.SentinelClient",
        "SENTINELS": _cache_sentinels,
        "SENTINEL_KWARGS": _SENTINEL_KWARGS,
    }
else:
    _cache_location, _cache_client = CACHE_URL, {}
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": _cache_location,
            "OPTIONS": {
                **_cache_client,
                "SOCKET_CONNECT_TIMEOUT": REDIS_TIMEOUT_SECONDS,
                "SOCKET_TIMEOUT": REDIS_TIMEOUT_SECONDS,
                # A cache that is down is a cache that misses: pages, sign-in and the public form go on without it
                # (the form's rate limit lets requests through, privacy/requests/ratelimit.py).
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: a real broker when REDIS_URL (or CELERY_BROKER_URL) is set; otherwise (quick start) tasks run
# in-process so the app needs no extra services.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
# A message a worker took and never acknowledged (the worker was killed, its machine lost) goes back to its queue
# after this long, for another worker. Longer than the longest task (an import, a purge): a task still running past
# it is handed out a second time (harmless, the tasks being idempotent, but work done twice).
CELERY_BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT}
if CELERY_BROKER_URL.startswith("sentinel://"):
    _sentinels(CELERY_BROKER_URL)  # the same database on every part, or ImproperlyConfigured
    CELERY_BROKER_TRANSPORT_OPTIONS |= {"master_name": REDIS_SENTINEL_MASTER, "sentinel_kwargs": _SENTINEL_KWARGS}
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Queues per kind of work, so that each kind gets workers of its own (docs/deploy.md): default, pdf, mail, purge,
# ingest and import. A prefix keeps deployments (or test processes) that share one Redis apart.
CELERY_QUEUE_PREFIX = env("CELERY_QUEUE_PREFIX", default="")
CELERY_QUEUE_KINDS = ("default", "pdf", "mail", "purge", "ingest", "import")
CELERY_QUEUES_BY_KIND = {kind: f"{CELERY_QUEUE_PREFIX}{kind}" for kind in CELERY_QUEUE_KINDS}
CELERY_TASK_DEFAULT_QUEUE = CELERY_QUEUES_BY_KIND["default"]
CELERY_TASK_ROUTES = ("config.task_routes.route_task",)
# Exactly one beat sends the schedule (registers/beat.py): a second one started by mistake waits for the lock.
CELERY_BEAT_SCHEDULER = "registers.beat.LockedDatabaseScheduler"
# Locks shared by every machine (the beat's, the purge's): Redis, by default the one of the broker.
LOCK_URL = env("LOCK_URL", default=REDIS_URL)
BEAT_LOCK_NAME = env("BEAT_LOCK_NAME", default="rekisteri:beat")
BEAT_LOCK_TIMEOUT_SECONDS = env.int("BEAT_LOCK_TIMEOUT_SECONDS", default=60)
CELERY_TIMEZONE = "Europe/Helsinki"

# Retention periods the register descriptions state and the purge (privacy/retention/purge.py) applies.
CALL_RECORDING_RETENTION_MONTHS = env.int("CALL_RECORDING_RETENTION_MONTHS", default=6)
# Seed 004 keeps messages "as long as the department is a client" and names no grace period.
CONTACT_CENTRE_MESSAGE_GRACE_DAYS = env.int("CONTACT_CENTRE_MESSAGE_GRACE_DAYS", default=90)
# Closed data-subject request files: two years, as Osano's documented default (see shared PRIVACY.md 4.12).
DATA_SUBJECT_REQUEST_FILE_RETENTION_DAYS = env.int("DATA_SUBJECT_REQUEST_FILE_RETENTION_DAYS", default=730)
PURGE_BATCH_SIZE = env.int("PURGE_BATCH_SIZE", default=200)
PURGE_LOCK_URL = env("PURGE_LOCK_URL", default=LOCK_URL)
# Deployments (or test processes) that share one Redis but purge different databases need names of their own.
PURGE_LOCK_NAME = env("PURGE_LOCK_NAME", default="rekisteri:retention-purge")

# The PRH open-data company register (YTJ v3). Empty: look-ups are off, and the forms say so; the quick
# start and the tests never call PRH. Production sets https://avoindata.prh.fi/opendata-ytj-api/v3.
PRH_API_URL = env("PRH_API_URL", default="")
PRH_TIMEOUT = env.float("PRH_TIMEOUT", default=5.0)
# Strong electronic identification of data subjects for their "my data" pages (issue 20): the city's identity
# broker (Helsinki-tunnistus, Suomi.fi's OpenID Connect interface) as an OpenID provider. Empty issuer: off, and
# the public request form works by e-mail confirmation alone. Staff never sign in this way.
SUBJECT_OIDC_ISSUER = env("SUBJECT_OIDC_ISSUER", default="")
SUBJECT_OIDC_CLIENT_ID = env("SUBJECT_OIDC_CLIENT_ID", default="")
SUBJECT_OIDC_CLIENT_SECRET = env("SUBJECT_OIDC_CLIENT_SECRET", default="")
SUBJECT_OIDC_SCOPES = env("SUBJECT_OIDC_SCOPES", default="openid profile email")
# e.g. "substantial high" for a broker that takes the wanted levels as acr_values; the level reached is checked anyway.
SUBJECT_OIDC_ACR_VALUES = env("SUBJECT_OIDC_ACR_VALUES", default="")
SUBJECT_OIDC_TIMEOUT = env.float("SUBJECT_OIDC_TIMEOUT", default=5.0)
SUBJECT_SESSION_IDLE_SECONDS = env.int("SUBJECT_SESSION_IDLE_SECONDS", default=15 * 60)
# An answer's files open only this soon after the person authenticated at the provider.
SUBJECT_FRESH_SIGN_IN_SECONDS = env.int("SUBJECT_FRESH_SIGN_IN_SECONDS", default=5 * 60)
# A person who has not signed in for this long, with no open request, is forgotten (the nightly task).
SUBJECT_IDENTITY_RETENTION_DAYS = env.int("SUBJECT_IDENTITY_RETENTION_DAYS", default=365)
PURGE_LOCK_TIMEOUT_SECONDS = env.int("PURGE_LOCK_TIMEOUT_SECONDS", default=900)
BACKUP_DIR = env.path("BACKUP_DIR", default=BASE_DIR / "var" / "backups")
BACKUP_RETENTION_DAYS = env.int("BACKUP_RETENTION_DAYS", default=35)
# The tamper-evident audit trail (registers.audit_chain, docs/audit-chain.md): the key of the chain's hashes, kept
# with the application and never in the database, and the directory of the daily anchors, on other storage than the
# database and its backups (mounted append-only in production).
AUDIT_CHAIN_KEY = env("AUDIT_CHAIN_KEY", default="")
AUDIT_ANCHOR_DIR = env.path("AUDIT_ANCHOR_DIR", default=BASE_DIR / "var" / "audit-anchors")
# The erasure ledger (privacy.rights.erasure_ledger): what each erasure removed, with no personal data, mirrored to
# this directory on other storage than the database and its backups, and replayed after `manage.py restore`.
ERASURE_LEDGER_DIR = env.path("ERASURE_LEDGER_DIR", default=BASE_DIR / "var" / "erasure-ledger")
ERASURE_LEDGER_KEY = env("ERASURE_LEDGER_KEY", default="")
# Login and failed-login logs (not of any one register) are kept this long; each register sets its own trail's.
LOGIN_LOG_RETENTION_DAYS = env.int("LOGIN_LOG_RETENTION_DAYS", default=730)
STATISTICS_MIN_CELL = env.int("STATISTICS_MIN_CELL", default=5)
# GDPR 18(3): a restriction of processing is lifted this many days after the person was told (privacy/rights/
# restriction_lift.py says why two weeks).
RESTRICTION_LIFT_NOTICE_DAYS = env.int("RESTRICTION_LIFT_NOTICE_DAYS", default=14)
if RESTRICTION_LIFT_NOTICE_DAYS < 1:
    raise ImproperlyConfigured("RESTRICTION_LIFT_NOTICE_DAYS must be at least 1: the notice comes before the lift.")
# Tasks outside tasks.py modules, which autodiscovery does not find.
CELERY_IMPORTS = ["privacy.requests.tasks", "privacy.rights.tasks", "privacy.retention.purge", "registers.backup"]
CELERY_BEAT_SCHEDULE = {
    "retention-purge": {
        "task": "privacy.purge.purge_run_task",
        "schedule": crontab(hour=env.int("PURGE_HOUR", default=2), minute=env.int("PURGE_MINUTE", default=30)),
    },
    "backup": {
        "task": "registers.backup.backup_task",
        "schedule": crontab(hour=env.int("BACKUP_HOUR", default=1), minute=env.int("BACKUP_MINUTE", default=15)),
    },
    # The audit trail's chains anchored outside the database and verified; main users are told of a break (issue 22).
    "audit-chain-nightly": {
        "task": "registers.tasks.audit_chain_nightly",
        "schedule": crontab(hour=env.int("AUDIT_VERIFY_HOUR", default=0), minute=45),
    },
    # Document requests whose two weeks (or month) run out: reminders on day 10 and day 12 (issue 21).
    "openness-reminders": {"task": "openness.tasks.document_request_reminders", "schedule": crontab(hour=7, minute=50)},
    # People of the "my data" pages who have not signed in for a year (issue 20).
    "selfservice-identities-forget": {
        "task": "selfservice.tasks.identities_forget",
        "schedule": crontab(hour=3, minute=30),
    },
    # Roles end on their end date: hourly, so a missed run is caught up the same morning.
    "memberships-sync": {"task": "registers.tasks.memberships_sync", "schedule": crontab(minute=1)},
    "access-review-open-due": {"task": "registers.tasks.access_review_open_due", "schedule": crontab(hour=3, minute=0)},
    "access-review-reminders": {
        "task": "registers.tasks.access_review_send_reminders",
        "schedule": crontab(hour=8, minute=0),
    },
    # Data-subject requests: letters missed by their own task (broker down), deadline
    # reminders on weekday mornings, and answer files whose download link has expired.
    "privacy-correspondence-sweep": {"task": "privacy.tasks.correspondence_sweep", "schedule": crontab(minute="*/5")},
    "privacy-deadline-reminders": {
        "task": "privacy.tasks.deadline_reminders_send",
        "schedule": crontab(hour=7, minute=30, day_of_week="mon-fri"),
    },
    "privacy-packages-expire": {"task": "privacy.tasks.packages_expire", "schedule": crontab(hour=4, minute=0)},
    # One reminder to confirm the e-mail address, a day after the confirmation letter, while its link works; and
    # restrictions lifted once the person was told and the wait is over (GDPR 18(3)). Hourly: both are idempotent.
    "privacy-confirmation-reminders": {
        "task": "privacy.tasks.confirmation_reminders_send",
        "schedule": crontab(minute=20),
    },
    "privacy-restriction-lifts": {"task": "privacy.tasks.restriction_lifts_advance", "schedule": crontab(minute=35)},
    "privacy-package-pdf-sweep": {"task": "privacy.tasks.package_pdf_sweep", "schedule": crontab(minute="*/5")},
    # Organisations against PRH's daily file (issue 15); the task does nothing unless PRH_API_URL is set.
    "company-register-refresh": {
        "task": "crm.tasks.company_register_refresh_nightly",
        "schedule": crontab(hour=env.int("COMPANY_REFRESH_HOUR", default=5), minute=0),
    },
    # Likely duplicates of every customer register (issue 16), after the night's imports and refresh.
    "duplicate-candidates-refresh": {
        "task": "duplicates.tasks.duplicate_candidates_refresh_nightly",
        "schedule": crontab(hour=env.int("DUPLICATE_SCAN_HOUR", default=5), minute=40),
    },
    # The contact-centre archive's intakes (issue 17): the poller looks every minute and reads each mailbox that is
    # due by its own interval; the server drop folders are read every five minutes.
    "archive-mailboxes-poll": {"task": "archive.tasks.mailboxes_poll", "schedule": crontab(minute="*")},
    "archive-maildir-read": {"task": "archive.tasks.maildir_read", "schedule": crontab(minute="*/5")},
    "archive-recording-lists-read": {"task": "archive.tasks.recording_lists_read", "schedule": crontab(minute="*/5")},
    # Sealed files of a batch that did not commit (a crash, a lost race) are named by no row.
    "archive-files-sweep": {"task": "archive.tasks.files_sweep", "schedule": crontab(hour=4, minute=40)},
    # The daily work (issue 18): each user's follow-ups due and overdue, mailed in the morning; campaign bounces
    # read from each controller's bounce mailbox; campaigns whose send was cut short (a worker killed) resumed.
    "followups-digest": {
        "task": "followups.tasks.digests_send",
        "schedule": crontab(hour=env.int("FOLLOWUP_DIGEST_HOUR", default=7), minute=0),
    },
    "campaigns-bounces-read": {"task": "campaigns.tasks.bounces_read", "schedule": crontab(minute="*/5")},
    "campaigns-resume": {"task": "campaigns.tasks.campaigns_resume", "schedule": crontab(minute="*/5")},
    # A merge's before-images serve only its undo: gone once the 30 days are over.
    "merge-images-expire": {
        "task": "duplicates.tasks.merge_images_expire_nightly",
        "schedule": crontab(hour=4, minute=20),
    },
}
# The contact-centre archive (issue 17). A server drop folder holds one Maildir per ordering client and
# direction: <ARCHIVE_MAILDIR_ROOT>/<ordering client's code>/in/ and .../out/. The recording server drops its
# daily CSV or JSON-lines file into ARCHIVE_RECORDING_DROP; read files move to its done/ folder.
ARCHIVE_MAILDIR_ROOT = env.path("ARCHIVE_MAILDIR_ROOT", default=BASE_DIR / "var" / "maildrop")
ARCHIVE_RECORDING_DROP = env.path("ARCHIVE_RECORDING_DROP", default=BASE_DIR / "var" / "recordings")
# Messages fetched from a mailbox per round trip (and per transaction of the poll state).
ARCHIVE_FETCH_BATCH = env.int("ARCHIVE_FETCH_BATCH", default=100)
ARCHIVE_IMAP_TIMEOUT = env.float("ARCHIVE_IMAP_TIMEOUT", default=30.0)
# An uploaded .eml or .mbox file of historical mail.
ARCHIVE_UPLOAD_MAX_BYTES = env.int("ARCHIVE_UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)

# Daily CRM work (issue 18). A bulk action on more rows than this runs in a Celery task with a progress bar.
BULK_INLINE_MAX = env.int("BULK_INLINE_MAX", default=1000)
# Campaign messages are sent in batches of this many per transaction of their recipients' state.
CAMPAIGN_SEND_BATCH = env.int("CAMPAIGN_SEND_BATCH", default=100)

# Seed 000: access rights are checked at least once a year.
ACCESS_REVIEW_INTERVAL_MONTHS = env.int("ACCESS_REVIEW_INTERVAL_MONTHS", default=12)
ACCESS_REVIEW_DUE_DAYS = env.int("ACCESS_REVIEW_DUE_DAYS", default=30)
ACCESS_REVIEW_REMINDER_DAYS = env.int("ACCESS_REVIEW_REMINDER_DAYS", default=7)
# Absolute links in e-mails (password link, review reminders, request status links):
# with DEBUG off a wrong default would send people links to a machine of their own.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
if not DEBUG and not SITE_URL:
    raise ImproperlyConfigured("SITE_URL must be set to the site's address (https://...) when DEBUG is off.")
try:
    _site = urlsplit(SITE_URL)
    _site_valid = _site.scheme in {"http", "https"} and bool(_site.hostname) and not (_site.query or _site.fragment)
except ValueError:
    _site_valid = False
if not _site_valid:
    raise ImproperlyConfigured("SITE_URL must be an absolute http(s) address such as https://rekisteri.example.fi.")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]

# Guardian's anonymous user would be a personal-data-free but real account;
# anonymous visitors never hold register permissions here.
ANONYMOUS_USER_NAME = None
GUARDIAN_USER_OBJ_PERMS_MODEL = "registers.RegisterUserObjectPermission"
GUARDIAN_GROUP_OBJ_PERMS_MODEL = "registers.RegisterGroupObjectPermission"

# How many reverse proxies of this deployment stand in front of the app; only
# their entries in X-Forwarded-For are believed (registers/client_address.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
# The load balancers' addresses or networks (10.0.0.5,10.0.1.0/24): X-Forwarded-For is believed only on connections
# from them. Empty: from any peer, as far as TRUSTED_PROXY_COUNT says (a node that only the proxy can reach).
TRUSTED_PROXY_ADDRESSES = env.list("TRUSTED_PROXY_ADDRESSES", default=[])
for _proxy in TRUSTED_PROXY_ADDRESSES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXY_ADDRESSES: {_proxy!r} is not an address or network.") from None
AXES_CLIENT_IP_CALLABLE = "registers.client_address.client_address"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
# A username is locked after AXES_FAILURE_LIMIT failures from any address, and an
# address after LOGIN_ADDRESS_FAILURE_LIMIT failures over any usernames
# (registers/login_throttle.py); README tells how a locked-out user is let back in.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "registers.login_throttle.LoginThrottleHandler"
AXES_USERNAME_CALLABLE = "registers.login_throttle.attempt_username"
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
AXES_RESET_ON_SUCCESS = True
# Every failure and lockout is kept for the login log, not only the counters.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# The lockout page says the same for known and unknown usernames.
AXES_LOCKOUT_CALLABLE = "registers.views.login_locked_out"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "fi"
LANGUAGES = [("fi", _("Finnish")), ("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Helsinki"
# Swedish dates as written in Finland (30.11.2026); Finnish and English keep Django's.
FORMAT_MODULE_PATH = ["config.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
# Uploaded and generated files (request mandates, answer packages and their PDFs, import files, the archive's sealed
# originals): the file system of the quick start (MEDIA_ROOT, a shared folder when there are several web nodes), or
# S3-compatible object storage, which no node keeps anything of (issue 23, docs/deploy.md). Never served as public
# URLs: views read them through the storage after their permission check.
FILE_STORAGE = env("FILE_STORAGE", default="filesystem")
if FILE_STORAGE == "s3":
    _file_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("S3_BUCKET"),
            "endpoint_url": env("S3_ENDPOINT_URL", default=None),
            "region_name": env("S3_REGION", default=None),
            "access_key": env("S3_ACCESS_KEY_ID", default=None),
            "secret_key": env("S3_SECRET_ACCESS_KEY", default=None),
            "location": env("S3_PREFIX", default=""),
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
            "object_parameters": {"ServerSideEncryption": "AES256"} if env.bool("S3_SSE", default=False) else {},
            # A file read from the bucket is held in memory up to this size, then in a temporary file of the reading
            # process (FILE_UPLOAD_TEMP_DIR): an import file or an archived original may be tens of megabytes.
            "max_memory_size": 2 * 1024 * 1024,
        },
    }
elif FILE_STORAGE == "filesystem":
    _file_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ImproperlyConfigured("FILE_STORAGE must be filesystem or s3.")
STORAGES = {
    "default": _file_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="rekisteri@localhost")

PHONENUMBER_DEFAULT_REGION = "FI"
PHONENUMBER_DB_FORMAT = "E164"

# Security headers and cookies.
# A session ends after 30 idle minutes and, however active, 12 hours after sign-in
# (registers/sessions.py enforces both; the cookie age is the outer bound).
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 3600)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
PASSWORD_RESET_TIMEOUT = 3600
OTP_TOTP_ISSUER = "Rekisteri"
# Authenticator secrets are stored encrypted (registers/totp.py) under keys that live only
# in the environment, so a copy of the database cannot produce anyone's codes. A
# comma-separated list of Fernet keys: the first encrypts, every one decrypts; to rotate,
# put a new key first and drop the old one once every device has been used (each use
# re-encrypts) or `manage.py totp_reencrypt` has run.


def _fernet_keys(name: str) -> list[str]:
    keys = [key.strip() for key in env.list(name, default=[]) if key.strip()]
    if not keys:
        if not DEBUG:
            raise ImproperlyConfigured(
                f"{name} must be set when DEBUG is off (generate one with: "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
            )
        # Quick start only (DEBUG on): a key derived from SECRET_KEY. The test command exports
        # keys of its own, as production must, so tests load the settings production runs.
        derived = hashlib.sha256(f"rekisteri {name}:".encode() + SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(derived).decode()]
    for key in keys:
        try:
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must be Fernet keys (32 bytes in URL-safe base64), separated by commas."
            ) from None
    return keys


TOTP_ENCRYPTION_KEYS = _fernet_keys("TOTP_ENCRYPTION_KEY")
# The contact-centre archive's original messages and attachments and the mailboxes' passwords
# (registers/sealing.py): a key of their own, so that rotating one never touches the other.
ARCHIVE_ENCRYPTION_KEYS = _fernet_keys("ARCHIVE_ENCRYPTION_KEY")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
if HTTPS:
    # The __Host- prefix binds the cookie to this exact origin over HTTPS.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The load balancer's probes and the metrics scraper speak plain HTTP to each node.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The integration API (/api/v1/): machine clients with keys of their own (api.authentication), never a session;
# errors as problem details in the caller's language; each client's own rate (api.throttling).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.APIClientAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.ChangeOrderCursorPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    # The OpenAPI document describes every operation; OPTIONS answers 405 rather than REST framework's metadata,
    # which looked objects up outside the views' own permission-aware selectors.
    "DEFAULT_METADATA_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Rekisteri integration API",
    "DESCRIPTION": "Customers, contact persons and interactions per register, for integrations. See docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files come from the project (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choices that several models name alike get names of their own in the document.
    "ENUM_NAME_OVERRIDES": {
        "DataSubjectRequestKindEnum": "privacy.requests.models.DataSubjectRequest.Kind",
        "DataSubjectRequestLanguageEnum": "privacy.requests.models.DataSubjectRequest.Language",
        "DataSubjectRequestStateEnum": "privacy.requests.models.DataSubjectRequest.State",
    },
}

# The Helsinki-profile GDPR API (api.gdpr, ../shared/research/GDPR-API.md): the profile's token issuer (its
# OpenID discovery document gives the JWKS), the audience agreed with the profile team, and the scopes read from
# the token's authorization field. Empty issuer: the GDPR API answers 401 to every call.
GDPR_API_ISSUER = env("GDPR_API_ISSUER", default="")
GDPR_API_AUDIENCE = env("GDPR_API_AUDIENCE", default="")
GDPR_API_QUERY_SCOPE = env("GDPR_API_QUERY_SCOPE", default="gdprquery")
GDPR_API_DELETE_SCOPE = env("GDPR_API_DELETE_SCOPE", default="gdprdelete")
GDPR_API_AUTHORIZATION_FIELD = env("GDPR_API_AUTHORIZATION_FIELD", default="authorization.permissions.scopes")
GDPR_API_TIMEOUT = env.float("GDPR_API_TIMEOUT", default=2.0)

# No inline scripts or styles anywhere: every asset comes from static/.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 500
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Operations (issue 23): /healthz and /readyz for the load balancer, Prometheus metrics at /metrics for a scraper
# that sends METRICS_TOKEN as a bearer token (no token set: the path answers 404), see ops/.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
PROMETHEUS_EXPORT_MIGRATIONS = False
# Each request's id: the load balancer's X-Request-ID when it sends one, else a new one; written in every log line
# of the request, returned in the response, and carried into the Celery tasks it starts (django-guid).
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": True,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": False,
    "INTEGRATIONS": [CeleryIntegration(use_django_logging=True, log_parent=True)],
    "UUID_LENGTH": 32,
}
# JSON lines by default, one object per record with its request id; LOG_FORMAT=text for a person at a terminal.
LOG_FORMAT = env("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "django_guid.log_filters.CorrelationId", "correlation_id_field": "request_id"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}
