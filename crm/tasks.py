"""Background work of crm: the nightly refresh of organisations from the company register (PRH open data).

The refresh downloads PRH's daily `/all_companies` file (some 800,000 companies, a few hundred MB) once, never
a request per customer, streams it through `company_refresh.company_register_refresh` and deletes it. A
download that fails, or a file that breaks off while it is read, fails the run as a whole: the refresh is one
transaction, so no customer is half refreshed and none reads as ceased because its company was cut off.
"""

import logging
import tempfile
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from companies.client import CompanyRegisterUnavailable, all_companies, all_companies_download

from .company_refresh import company_register_refresh

logger = logging.getLogger(__name__)

# A download of the whole register may take minutes; a stalled connection must still end.
DOWNLOAD_TIMEOUT = 120.0


def _download_folder() -> Path | None:
    """Return a folder for the daily file under MEDIA_ROOT when it is writable, else None (the system's temp)."""
    # Scratch of this one task on this worker's own disk, deleted when the task ends: no request and no other
    # task reads it, so it is not a file of the storage (FILE_STORAGE) and is never shared between machines.
    folder = Path(settings.MEDIA_ROOT) / "company_register"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder


@shared_task(name="crm.tasks.company_register_refresh_nightly", ignore_result=True)
def company_register_refresh_nightly() -> dict | None:
    """Refresh every organisation customer from PRH's daily file; return the counts, or None if it did not run."""
    if not settings.PRH_API_URL:
        logger.info("Company register refresh skipped: PRH_API_URL is not set")
        return None
    with tempfile.TemporaryDirectory(prefix="all_companies-", dir=_download_folder()) as folder:
        try:
            path = all_companies_download(folder, timeout=DOWNLOAD_TIMEOUT)
            fetched_at = timezone.now()
            result = company_register_refresh(companies=all_companies(path), fetched_at=fetched_at)
        except CompanyRegisterUnavailable as error:
            # Nothing was written (one transaction); tomorrow's run tries again.
            logger.warning("Company register refresh failed, nothing changed: %s", error)
            raise
    logger.info("Company register refresh done: %s", result)
    return vars(result)
