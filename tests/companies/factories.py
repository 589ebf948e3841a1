"""PRH v3 `Company` objects, shaped like the recorded answers, for tests that need many of them."""

import itertools

import factory
from stdnum.fi import ytunnus

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1)


def valid_business_ids(start: int = 2_000_000):
    """Yield valid business IDs (1234567-1 form) in order, skipping the bases that have no check digit."""
    for base in itertools.count(start):
        digits = f"{base:07d}"
        check = -sum(w * int(d) for w, d in zip(WEIGHTS, digits, strict=False)) % 11
        if check < 10:
            yield ytunnus.format(f"{digits}{check}")


def descriptions(fi: str = "", sv: str = "", en: str = "") -> list[dict]:
    entries = [("1", fi), ("2", sv), ("3", en)]
    return [{"languageCode": code, "description": text} for code, text in entries if text]


class CompanyJsonFactory(factory.DictFactory):
    businessId = factory.Dict(  # noqa: N815 - PRH's field names
        {"value": factory.Iterator(valid_business_ids()), "registrationDate": "2015-02-03", "source": "3"}
    )
    names = factory.LazyAttributeSequence(
        lambda o, n: [{"name": f"Esimerkki {n} Oy", "type": "1", "registrationDate": "2015-02-03", "version": 1}]
    )
    mainBusinessLine = factory.Dict(  # noqa: N815
        {
            "type": "62100",
            "typeCodeSet": "TOIMI4",
            "descriptions": descriptions("Ohjelmistojen suunnittelu", "Programvarudesign", "Software design"),
        }
    )
    companyForms = factory.LazyFunction(  # noqa: N815
        lambda: [{"type": "16", "version": 1, "source": "1", "descriptions": descriptions("Osakeyhtiö")}]
    )
    companySituations = factory.LazyFunction(list)  # noqa: N815
    registeredEntries = factory.LazyFunction(  # noqa: N815
        lambda: [{"type": "1", "register": "1", "authority": "2", "registrationDate": "2015-02-03"}]
    )
    addresses = factory.LazyFunction(
        lambda: [
            {
                "type": 1,
                "street": "Hämeenkatu",
                "buildingNumber": "1",
                "postCode": "20100",
                "postOffices": [
                    {"city": "TURKU", "languageCode": "1", "municipalityCode": "853"},
                    {"city": "ÅBO", "languageCode": "2", "municipalityCode": "853"},
                ],
            }
        ]
    )
    tradeRegisterStatus = "1"  # noqa: N815
    status = "2"
    registrationDate = "2015-02-03"  # noqa: N815
    lastModified = "2026-01-02T03:04:05"  # noqa: N815
