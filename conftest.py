import os

# Playwright's sync API runs an event loop in the test thread; the ORM calls
# made by the same tests are safe there (test process only).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
