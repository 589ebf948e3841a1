import pytest
from django.contrib.auth import get_user_model

from ..factories import DEFAULT_PASSWORD


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's chromium: Playwright cannot download its own browser here.
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session", autouse=True)
def _serve_collected_static():
    # The live server's static handler finds files by their source names, but
    # the manifest storage links hashed names (app.25a9904b.css) that exist
    # only in STATIC_ROOT: serve from there, as whitenoise does in production.
    from django.conf import settings
    from django.contrib.staticfiles import handlers
    from django.views.static import serve

    def serve_collected(self, request):
        return serve(request, self.file_path(request.path), document_root=settings.STATIC_ROOT)

    original = handlers.StaticFilesHandlerMixin.serve
    handlers.StaticFilesHandlerMixin.serve = serve_collected
    yield
    handlers.StaticFilesHandlerMixin.serve = original


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Staff work in Finnish by default; tests switch language through the UI.
    return {**browser_context_args, "locale": "fi-FI"}


@pytest.fixture
def sign_in(live_server, page):
    """Sign a user in through the real login form."""

    def _sign_in(user, password=DEFAULT_PASSWORD):
        from django_otp.oath import totp

        from registers.two_factor import user_requires_two_factor

        from ..conftest import verified_device

        device = verified_device(user) if user_requires_two_factor(user) else None
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Käyttäjätunnus").or_(page.get_by_label("Username")).fill(user.username)
        page.locator("input[name=password]").fill(password)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_load_state()
        if device is not None:
            # The second factor, as the user's authenticator app would compute it.
            code = totp(device.bin_key, step=device.step, digits=device.digits)
            page.locator("input[name=token]").fill(f"{code:06d}")
            page.locator("main form button[type=submit]").click()
            page.wait_for_load_state()
        assert get_user_model().objects.filter(pk=user.pk, last_login__isnull=False).exists()
        return page

    return _sign_in
