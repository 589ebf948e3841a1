"""A client for the PRH open-data company register, YTJ v3 (https://avoindata.prh.fi/opendata-ytj-api/v3).

Licence: the data are "PRH open data", licensed Creative Commons Attribution 4.0 (CC BY 4.0). Wherever
they are shown, say "Source: PRH open data, CC BY 4.0", and never use the PRH or YTJ logo or make
Rekisteri look like the official source.

Traps of the service (see the research notes on PRH/YTJ), each handled here:
- An unknown but well-formed business ID gets either an empty `companies` list or a 404: both mean None.
- The page size is fixed at 100, and a page past the end is answered with page 1: pages are counted from
  `totalResults`, never by waiting for an empty page.
- The only declared limit is HTTP 429 (text/plain): `Retry-After` is honoured up to RETRY_AFTER_CAP
  seconds, at most MAX_RETRIES times; then the register counts as unavailable.
- The top-level `status` is "2" for living and dead companies alike; `facts.CompanyFacts` derives the
  status from situations, end dates and register entries instead.
- Company forms come back as numeric codes ("16"), although the `companyForm` query takes letters ("OY").
- `mainBusinessLine` matches as a substring ("62" also finds 46462), and since 2026 the lines are TOIMI4
  (TOL 2025) codes: filter exact classes on this side.
- The daily `/all_companies` file is a ZIP of one JSON array of some 800,000 companies: it is streamed
  with ijson, never loaded whole.
With PRH_API_URL empty (the quick start and the tests) no call is ever made.
"""

import logging
import math
import os
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import ijson
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as InvalidNumber
from stdnum.fi import ytunnus

from .facts import CompanyFacts

logger = logging.getLogger(__name__)

PAGE_SIZE = 100  # fixed by PRH; `maxResults` has no effect in v3
MAX_PAGE = 1_000_000  # PRH's `page` is an int32; any page past the end is answered with page 1
MAX_RETRIES = 2
RETRY_AFTER_CAP = 5.0  # seconds a request may wait for PRH; a longer Retry-After fails at once
RETRY_AFTER_DEFAULT = 1.0
CACHE_SECONDS = 6 * 60 * 60
# A company registered today must show up soon, so "no such company" is remembered only briefly.
NOT_FOUND_CACHE_SECONDS = 10 * 60
CACHE_PREFIX = "companies:prh:v3:"
USER_AGENT = "Rekisteri/1.0 (CRM; PRH open data client)"
DOWNLOAD_CHUNK_BYTES = 1 << 16
HEAD_BYTES = 4096

# Tests replace this to see the waits without waiting.
sleep = time.sleep


class CompanyRegisterUnavailable(Exception):  # noqa: N818 - the name the brief and callers use
    """PRH did not answer usably: a timeout, a connection error, a 5xx, bad JSON or 429 after retries."""

    message = _("The company register could not be reached.")

    def __init__(self, message=None):
        if message is not None:
            self.message = message
        super().__init__(self.message)

    def __str__(self) -> str:
        return str(self.message)


class CompanyRegisterNotConfigured(CompanyRegisterUnavailable):
    message = _("The company register look-up is not configured.")


UNREADABLE_FILE = _("The company register's daily file could not be read.")


@dataclass(frozen=True)
class SearchPage:
    companies: tuple[CompanyFacts, ...]
    total: int
    page: int
    pages: int

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def business_id_compact(value: Any) -> str | None:
    """Return the business ID in PRH's form (1234567-8), or None if it is not a valid one."""
    if not isinstance(value, str) or len(value) > 32:
        return None
    try:
        return ytunnus.format(ytunnus.validate(value))
    except InvalidNumber:
        return None


def company_get(business_id: str) -> CompanyFacts | None:
    """Return the company with this business ID, or None if it is invalid or unknown to PRH."""
    base_url = _base_url()
    business_id = business_id_compact(business_id)
    if business_id is None:
        return None
    key = CACHE_PREFIX + business_id
    cached = cache.get(key)
    if cached is not None:
        return CompanyFacts.from_json(cached["company"]) if cached["company"] else None
    with _client() as client:
        response = _send(client, f"{base_url}/companies", params={"businessId": business_id})
    if response.status_code == 404:
        found = None
    else:
        found = next((c for c in _companies(response) if _business_id_of(c) == business_id), None)
    # The raw object is cached rather than the dataclass, so that a deploy that changes CompanyFacts
    # never unpickles an old shape.
    facts = _parse(found) if found is not None else None
    cache.set(key, {"company": found}, CACHE_SECONDS if found is not None else NOT_FOUND_CACHE_SECONDS)
    return facts


def company_search(*, name: str = "", location: str = "", business_line: str = "", page: int = 1) -> SearchPage:
    """Return one page (at most 100 companies) of PRH's search by name, town and business line."""
    base_url = _base_url()
    criteria = {"name": name, "location": location, "mainBusinessLine": business_line}
    params: dict[str, Any] = {key: str(value).strip() for key, value in criteria.items() if value is not None}
    params = {key: value for key, value in params.items() if value}
    if not params:
        return SearchPage(companies=(), total=0, page=1, pages=0)
    try:
        page = min(max(int(page), 1), MAX_PAGE)
    except (TypeError, ValueError):
        page = 1
    params["page"] = page
    with _client() as client:
        response = _send(client, f"{base_url}/companies", params=params)
    if response.status_code == 404:
        return SearchPage(companies=(), total=0, page=1, pages=0)
    data = _json(response)
    total = data["totalResults"]
    pages = math.ceil(total / PAGE_SIZE)
    companies = tuple(facts for facts in map(_parse_or_skip, data["companies"]) if facts is not None)
    # PRH answers a page past the end with page 1: say so rather than label page 1 as the page asked for.
    return SearchPage(companies=companies, total=total, page=page if page <= pages else 1, pages=pages)


def all_companies(path_or_file: str | os.PathLike | IO[bytes]) -> Iterator[CompanyFacts]:
    """Yield every company of a daily `/all_companies` ZIP, streaming it in constant memory.

    The single JSON member may be an array of companies or an object `{"companies": [...]}`. A record
    without a business ID is skipped. A file that breaks off raises CompanyRegisterUnavailable after the
    companies before the break were yielded: a nightly refresh must then treat the whole run as failed.
    """
    try:
        archive = zipfile.ZipFile(path_or_file)
    except (zipfile.BadZipFile, OSError) as error:
        logger.warning("PRH all_companies: not a readable ZIP: %s", error)
        raise CompanyRegisterUnavailable(UNREADABLE_FILE) from error
    with archive:
        member = _json_member(archive)
        prefix = _items_prefix(archive, member)
        skipped = 0
        with archive.open(member) as stream:
            items = ijson.items(stream, prefix, use_float=True)
            while True:
                try:
                    data = next(items)
                except StopIteration:
                    break
                except (ijson.JSONError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
                    logger.warning("PRH all_companies: %s breaks off: %s", member.filename, error)
                    raise CompanyRegisterUnavailable(UNREADABLE_FILE) from error
                facts = _parse_or_skip(data)
                if facts is None:
                    skipped += 1
                    continue
                yield facts
        if skipped:
            logger.warning("PRH all_companies: skipped %d records without a business ID", skipped)


def all_companies_download(destination: str | os.PathLike, *, timeout: float | None = None) -> Path:
    """Stream the daily `/all_companies` ZIP to `destination` (a file, or a folder to hold one); return its path.

    The file appears only when complete: it is written beside the target and renamed at the end.
    """
    base_url = _base_url()
    target = Path(destination)
    if target.is_dir():
        target = target / "all_companies.zip"
    partial = target.with_name(target.name + ".part")
    try:
        with _client(timeout=timeout) as client:
            response = _send(client, f"{base_url}/all_companies", accept="application/zip", stream=True)
            try:
                if response.status_code != httpx.codes.OK:
                    logger.warning("PRH all_companies answered HTTP %s", response.status_code)
                    raise CompanyRegisterUnavailable
                with partial.open("wb") as out:
                    for chunk in response.iter_bytes(DOWNLOAD_CHUNK_BYTES):
                        out.write(chunk)
            except httpx.HTTPError as error:
                logger.warning("PRH all_companies download failed: %r", error)
                raise CompanyRegisterUnavailable from error
            finally:
                response.close()
        if not zipfile.is_zipfile(partial):
            logger.warning("PRH all_companies answered something that is not a ZIP")
            raise CompanyRegisterUnavailable(UNREADABLE_FILE)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _base_url() -> str:
    url = (settings.PRH_API_URL or "").strip()
    if not url:
        raise CompanyRegisterNotConfigured
    return url.rstrip("/")


def _client(timeout: float | None = None) -> httpx.Client:
    return httpx.Client(
        timeout=settings.PRH_TIMEOUT if timeout is None else timeout,
        headers={"User-Agent": USER_AGENT},
    )


def _retry_after(response: httpx.Response) -> float | None:
    """Return how many seconds PRH asks to wait, or None if that is longer than a request may wait."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value) if value else RETRY_AFTER_DEFAULT
    except ValueError:
        seconds = RETRY_AFTER_DEFAULT  # an HTTP date, or noise
    if not math.isfinite(seconds) or seconds > RETRY_AFTER_CAP:
        return None
    return max(seconds, 0.0)


def _send(
    client: httpx.Client, url: str, *, params=None, accept: str = "application/json", stream: bool = False
) -> httpx.Response:
    """Send a GET, waiting out 429s as allowed; any other status is the caller's to judge."""
    request_error = None
    for attempt in range(MAX_RETRIES + 1):
        try:
            request = client.build_request("GET", url, params=params, headers={"Accept": accept})
            response = client.send(request, stream=stream)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            request_error = error
            break
        if response.status_code != httpx.codes.TOO_MANY_REQUESTS:
            return response
        response.close()
        wait = _retry_after(response)
        if wait is None or attempt == MAX_RETRIES:
            logger.warning("PRH rate limit: gave up after %d attempts", attempt + 1)
            raise CompanyRegisterUnavailable
        sleep(wait)
    logger.warning("PRH request failed: %r", request_error)
    raise CompanyRegisterUnavailable from request_error


def _json(response: httpx.Response) -> dict:
    """Return the `CompanyResult` of a response, or raise CompanyRegisterUnavailable."""
    if response.status_code != httpx.codes.OK:
        logger.warning("PRH answered HTTP %s", response.status_code)
        raise CompanyRegisterUnavailable
    try:
        data = response.json()
    except ValueError as error:
        logger.warning("PRH answered invalid JSON: %s", error)
        raise CompanyRegisterUnavailable from error
    companies = data.get("companies") if isinstance(data, dict) else None
    total = data.get("totalResults", 0) if isinstance(data, dict) else None
    if not isinstance(companies, list) or not isinstance(total, int) or isinstance(total, bool) or total < 0:
        logger.warning("PRH answered JSON of an unknown shape")
        raise CompanyRegisterUnavailable
    return {"companies": companies, "totalResults": max(total, len(companies))}


def _companies(response: httpx.Response) -> list:
    return _json(response)["companies"]


def _business_id_of(data: Any) -> str | None:
    value = data.get("businessId") if isinstance(data, dict) else None
    return str(value.get("value") or "").strip() if isinstance(value, dict) else None


def _parse(data: Any) -> CompanyFacts:
    try:
        return CompanyFacts.from_json(data)
    except ValueError as error:
        logger.warning("PRH answered a company without a business ID")
        raise CompanyRegisterUnavailable from error


def _parse_or_skip(data: Any) -> CompanyFacts | None:
    try:
        return CompanyFacts.from_json(data)
    except ValueError:
        return None


def _json_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    # The file holds one member, data_YYYYMMDD.json; should PRH add a small one beside it, the data is the largest.
    members = [info for info in archive.infolist() if not info.is_dir() and info.filename.lower().endswith(".json")]
    if not members:
        logger.warning("PRH all_companies: the ZIP holds no JSON file")
        raise CompanyRegisterUnavailable(UNREADABLE_FILE)
    return max(members, key=lambda info: info.file_size)


def _items_prefix(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> str:
    """Tell from the first bytes whether the member is an array or `{"companies": [...]}`."""
    try:
        with archive.open(member) as stream:
            head = stream.read(HEAD_BYTES)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise CompanyRegisterUnavailable(UNREADABLE_FILE) from error
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"["):
        return "item"
    if head.startswith(b"{"):
        return "companies.item"
    logger.warning("PRH all_companies: %s is neither a JSON array nor an object", member.filename)
    raise CompanyRegisterUnavailable(UNREADABLE_FILE)
