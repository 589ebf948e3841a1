"""The tasks of data-subject requests run again (a retry, a worker killed and its message delivered again, the
sweeper alongside the task): the answer's PDF is stored once, and a letter is recorded sent once."""

import hashlib
import json
import signal
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from privacy.requests import access_package, emails, services, tasks
from privacy.requests.models import Correspondence, ResponsePackage

from ...factories import PersonCustomerFactory
from ...registers.conftest import broker_for_tests, celery_process, queues_of, stop, wait_for
from ...registers.redis_servers import redis_server
from .. import steps

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


class Killed(BaseException):
    """The worker dies here: no except clause of the code under test runs, as under SIGKILL."""


def pdf_files(media: Path) -> list[Path]:
    return sorted((media / "privacy" / "packages").glob("*.pdf"))


@pytest.fixture
def package(register_a, handler_a) -> ResponsePackage:
    request = steps.in_review(register_a, handler_a, records=[PersonCustomerFactory(register=register_a)])
    return request.packages.get()


def test_a_pdf_rendered_twice_is_stored_once(package, private_media):
    assert tasks.package_pdf_render_task(package.pk) is True
    assert tasks.package_pdf_render_task(package.pk) is False
    assert tasks.package_pdf_sweep(older_than_seconds=0) == 0
    package.refresh_from_db()
    assert [path.name for path in pdf_files(private_media)] == [Path(package.pdf.name).name]


def test_a_render_killed_between_its_file_and_its_commit_leaves_one_pdf_after_the_retry(
    package, private_media, monkeypatch
):
    def die(self, *args, **kwargs):
        raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(ResponsePackage, "save", die)
        with pytest.raises(Killed):
            services.package_pdf_render(package_id=package.pk)
    package.refresh_from_db()
    assert not package.pdf
    assert len(pdf_files(private_media)) == 1, "the killed try wrote its file"

    # The message comes back, or the sweeper finds the package without its PDF.
    assert tasks.package_pdf_sweep(older_than_seconds=0) == 1
    package.refresh_from_db()
    with package.pdf.open("rb") as stored:
        assert stored.read().startswith(b"%PDF-")
    assert [path.name for path in pdf_files(private_media)] == [Path(package.pdf.name).name]


def test_a_pdf_of_a_letter_replaced_while_it_rendered_is_not_stored(package, owner_a, monkeypatch):
    render = access_package.render_pdf

    def approved_meanwhile(html):
        # The approver adds a note while this render runs: the package gets a new letter.
        services.request_approve(request=package.request, actor=owner_a, decision_text="Päätös liitteenä.")
        return render(html)

    monkeypatch.setattr(access_package, "render_pdf", approved_meanwhile)
    assert services.package_pdf_render(package_id=package.pk) is False
    package.refresh_from_db()
    assert not package.pdf

    monkeypatch.setattr(access_package, "render_pdf", render)
    assert services.package_pdf_render(package_id=package.pk) is True
    package.refresh_from_db()
    with package.pdf.open("rb") as stored:
        assert b"%PDF-" in stored.read(8)
    assert set(package.file_sha256) == {"html", "json", "pdf"}


def test_a_letter_sent_again_after_a_kill_is_recorded_once_with_the_same_message_id(register_a, monkeypatch):
    steps.submit(register_a)
    letter = Correspondence.objects.get()
    send = EmailMultiAlternatives.send

    def sent_then_killed(self, *args, **kwargs):
        send(self, *args, **kwargs)
        raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(EmailMultiAlternatives, "send", sent_then_killed)
        with pytest.raises(Killed):
            tasks.correspondence_send_task(letter.pk)
    letter.refresh_from_db()
    assert letter.sent_at is None

    assert tasks.correspondence_send_task(letter.pk) is True
    assert tasks.correspondence_send_task(letter.pk) is False
    first, second = mail.outbox
    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"] == emails.letter_message_id(letter)
    letter.refresh_from_db()
    assert letter.sent_at is not None
    assert letter.attempts == 1


def _unacked_ids(broker: str) -> set[str]:
    """The ids of the tasks whose messages a worker has taken and not acknowledged (kombu's `unacked` hash)."""
    client = redis.Redis.from_url(broker)
    try:
        return {json.loads(value)[0]["headers"]["id"] for value in client.hvals("unacked")}
    finally:
        client.close()


@pytest.fixture
def broker(tmp_path):
    """A broker of this test's own: its second worker hands back every message left unacknowledged for a second,
    which in the shared test broker would include tasks that other tests' workers are still running."""
    with redis_server(tmp_path) as (port, _):
        yield f"redis://127.0.0.1:{port}/0"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_render_leaves_the_pdf_to_the_next_worker_which_stores_it_once(
    register_a, handler_a, private_media, broker, tmp_path
):
    request = steps.in_review(register_a, handler_a, records=[PersonCustomerFactory(register=register_a)])
    package = request.packages.get()
    # A letter long enough to be killed in the middle of its render, stored and hashed as a built one is.
    rows = "".join(f"<tr><td>Tapahtuma {n}</td><td>1.1.2026</td></tr>" for n in range(600))
    html = Path(package.html.path).read_bytes().replace(b"</body>", f"<table>{rows}</table></body>".encode())
    Path(package.html.path).write_bytes(html)
    hashes = {**package.file_sha256, "html": hashlib.sha256(html).hexdigest()}
    ResponsePackage.objects.filter(pk=package.pk).update(file_sha256=hashes)

    prefix = f"test-pdf-{uuid.uuid4().hex[:8]}-"
    options = ["--pool=solo", "-Q", ",".join(queues_of(prefix)), "--without-gossip", "--without-mingle"]
    env = {"MEDIA_ROOT": str(private_media), "CELERY_BROKER_URL": broker}
    workers = []

    def worker(name: str, **kwargs):
        (tmp_path / name).mkdir()
        process = celery_process(
            "worker", *options, "-n", f"{prefix}{name}@localhost",
            queue=f"{prefix}default", log_dir=tmp_path / name, env=env, **kwargs,
        )  # fmt: skip
        workers.append(process)
        return process

    try:
        first = worker("first")
        with broker_for_tests(broker):
            task_id = tasks.package_pdf_render_task.apply_async((package.pk,), queue=f"{prefix}pdf").id
        wait_for(lambda: task_id in _unacked_ids(broker), timeout=30, what="the first worker to take the task")
        time.sleep(0.5)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert not ResponsePackage.objects.get(pk=package.pk).pdf, "killed after the render: the test proves nothing"

        # The broker hands the message back once it has gone unacknowledged for the visibility timeout (an hour in
        # production; a second here, for this worker only).
        worker("second", transport_options={"visibility_timeout": 1, "unacked_restore_interval": 1})
        wait_for(lambda: ResponsePackage.objects.get(pk=package.pk).pdf, timeout=30, what="the PDF")
        wait_for(lambda: task_id not in _unacked_ids(broker), timeout=10, what="the acknowledgement")
    except BaseException:
        for log in tmp_path.glob("*/worker.log"):
            print(log.read_text()[-3000:])
        raise
    finally:
        for process in workers:
            stop(process)

    package.refresh_from_db()
    assert [path.name for path in pdf_files(private_media)] == [Path(package.pdf.name).name]
    with package.pdf.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == package.file_sha256["pdf"]
