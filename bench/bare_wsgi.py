"""The calibration pages of bench_pages.py as a WSGI application with no middleware, for bench_load.py.

gunicorn serves it beside the project (`gunicorn bare_wsgi --pythonpath bench`), so the requests per second
of a bare 50-row list view over the same customer table, through the same server on the same cores, show
what the hardware gives before any of the project's work.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import bench_pages  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

# Before the handler loads its middleware and resolves its first URL: only the bare pages, no middleware.
settings.ROOT_URLCONF = bench_pages.bare_urlconf()
settings.MIDDLEWARE = []
application = get_wsgi_application()
