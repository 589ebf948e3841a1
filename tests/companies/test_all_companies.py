"""The daily /all_companies ZIP: streamed in constant memory, and downloaded whole or not at all."""

import io
import json
import re
import tracemalloc
import zipfile

import pytest

from companies.client import CompanyRegisterUnavailable, all_companies, all_companies_download
from companies.facts import CompanyStatus

from .conftest import recorded_company
from .factories import CompanyJsonFactory

API = "/opendata-ytj-api/v3"
UNREADABLE = re.escape("The company register's daily file could not be read.")


def zip_of(payload: bytes | str, member: str = "data_20260804.json") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, payload)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def five_thousand() -> list[dict]:
    return CompanyJsonFactory.build_batch(5000)


def test_it_yields_every_company_of_the_daily_file(tmp_path, five_thousand):
    path = tmp_path / "all_companies.zip"
    path.write_bytes(zip_of(json.dumps(five_thousand)))
    ids = [facts.business_id for facts in all_companies(path)]
    assert ids == [data["businessId"]["value"] for data in five_thousand]
    assert len(set(ids)) == 5000


def peak_memory_reading(payload: bytes) -> int:
    archive = io.BytesIO(zip_of(payload))
    tracemalloc.start()
    try:
        assert sum(1 for _facts in all_companies(archive)) > 0
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_it_streams_in_constant_memory(five_thousand):
    small = json.dumps(five_thousand[:500]).encode()
    large = json.dumps(five_thousand).encode()
    small_peak, large_peak = peak_memory_reading(small), peak_memory_reading(large)
    # Ten times the companies, about the same memory; loading the file whole would take several times its size.
    assert large_peak < small_peak * 1.5, f"peak {small_peak} bytes for 500 companies, {large_peak} for 5,000"
    assert large_peak < len(large) / 4


def test_it_accepts_the_companies_object_shape():
    companies = [recorded_company(name) for name in ("company_active.json", "company_ceased.json")]
    payload = json.dumps({"totalResults": 2, "companies": companies, "note": {"companies": "not these"}})
    facts = list(all_companies(io.BytesIO(zip_of(payload))))
    assert [(f.name, f.status) for f in facts] == [
        ("Dynava Oy", CompanyStatus.ACTIVE),
        ("Artjarven Metalli Oy", CompanyStatus.CEASED),
    ]


def test_it_skips_a_record_without_a_business_id():
    payload = json.dumps([CompanyJsonFactory(), {"names": []}, CompanyJsonFactory()])
    assert len(list(all_companies(io.BytesIO(zip_of(payload))))) == 2


def test_it_finds_the_json_member_beside_other_files():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "PRH open data")
        archive.writestr("data_20260804.json", json.dumps([CompanyJsonFactory()]))
    assert len(list(all_companies(buffer))) == 1


def test_a_file_that_is_not_a_zip_is_unreadable():
    with pytest.raises(CompanyRegisterUnavailable, match=UNREADABLE):
        list(all_companies(io.BytesIO(b'[{"businessId": {"value": "0100130-4"}}]')))


@pytest.mark.parametrize("payload", ["", "null", '"companies"', "<html>Service unavailable</html>"])
def test_a_member_that_is_not_companies_is_unreadable(payload):
    with pytest.raises(CompanyRegisterUnavailable, match=UNREADABLE):
        list(all_companies(io.BytesIO(zip_of(payload))))


def test_a_zip_without_json_is_unreadable():
    with pytest.raises(CompanyRegisterUnavailable, match=UNREADABLE):
        list(all_companies(io.BytesIO(zip_of("[]", member="data.csv"))))


def test_a_file_that_breaks_off_fails_after_the_whole_companies():
    payload = json.dumps([CompanyJsonFactory(), CompanyJsonFactory()])[:-40]
    seen = []
    with pytest.raises(CompanyRegisterUnavailable, match=UNREADABLE):
        seen.extend(all_companies(io.BytesIO(zip_of(payload))))
    assert len(seen) == 1


def test_the_download_writes_the_zip_and_it_can_be_read(prh_server, tmp_path):
    body = zip_of(json.dumps(CompanyJsonFactory.build_batch(3)))
    prh_server.expect_request(f"{API}/all_companies").respond_with_data(body, content_type="application/zip")
    path = all_companies_download(tmp_path)
    assert path == tmp_path / "all_companies.zip"
    assert path.read_bytes() == body
    assert len(list(all_companies(path))) == 3
    request = prh_server.log[0][0]
    assert request.headers["Accept"] == "application/zip"
    assert "Rekisteri" in request.headers["User-Agent"]
    assert [p.name for p in tmp_path.iterdir()] == ["all_companies.zip"]


def test_a_failed_download_leaves_no_file(prh_server, tmp_path):
    prh_server.expect_request(f"{API}/all_companies").respond_with_data("Service unavailable", status=503)
    with pytest.raises(CompanyRegisterUnavailable, match=re.escape("The company register could not be reached.")):
        all_companies_download(tmp_path / "today.zip")
    assert list(tmp_path.iterdir()) == []


def test_a_download_that_is_not_a_zip_leaves_no_file(prh_server, tmp_path):
    prh_server.expect_request(f"{API}/all_companies").respond_with_data("<html>maintenance</html>")
    with pytest.raises(CompanyRegisterUnavailable, match=UNREADABLE):
        all_companies_download(tmp_path / "today.zip")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_download_keeps_yesterdays_file(prh_server, tmp_path):
    target = tmp_path / "all_companies.zip"
    target.write_bytes(b"yesterday")
    prh_server.expect_request(f"{API}/all_companies").respond_with_data("", status=500)
    with pytest.raises(CompanyRegisterUnavailable):
        all_companies_download(target)
    assert target.read_bytes() == b"yesterday"
