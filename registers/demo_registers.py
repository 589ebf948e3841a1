"""Demo organisations and registers, taken from the five published register descriptions in shared/seeds.

The seeds are real register descriptions (rekisteriseloste / tietosuojaseloste / registerbeskrivning):

- 000 (Swedish): City of Helsinki business services, one customer register in two parts;
- 001 (Finnish): City of Kemi, vitality board, CRM of customer companies and partners;
- 002 (Finnish): City of Naantali, business-services CRM;
- 003 (Finnish): a private company, customer register with assignments, billing and collection;
- 004 (Swedish): City of Helsinki Service Centre, Genesys contact centre.

Texts keep each seed's own wording and language (the `_fi`, `_sv` or `_en` key says which), cleaned of PDF
line-break and OCR artefacts (the Swedish of seed 004 had lost its å/ä/ö). The items a published description must
state (controller address and e-mail, data protection officer, retention) are given in all three languages, our
translations and, where the seed is silent, our plausible values. Where a seed is silent and a model field needs a
value, the choice is explained in a comment next to it. This module is pure data: it imports nothing but ``datetime``.
"""

import datetime

# "name" is the Finnish name, the one the demo loader looks an organisation up by. Names in the other languages,
# addresses and e-mails the seed does not give are ours; each is marked. Addresses are not language-bound: they stay
# in the language the seed wrote them in.
ORGANISATIONS = [
    {
        # Seed 000 (Swedish) names only the Swedish unit. It gives no postal address or registry e-mail: those
        # below are the City of Helsinki registry office's (kirjaamo), where requests to any city unit go.
        "key": "helsinki-business",
        "name": "Helsingin kaupungin elinkeinopalvelu",
        "name_sv": "Helsingfors stads näringslivsservice",
        "name_en": "City of Helsinki Business Services",
        "public_authority": True,
        "address": "Helsingin kaupungin kirjaamo, PL 10, 00099 Helsingin kaupunki",
        "phone": "",
        "registry_email": "helsinki.kirjaamo@hel.fi",
    },
    {
        # Seed 001. The Swedish and English names are ours.
        "key": "kemi",
        "name": "Kemin kaupunki, Elinvoimalautakunta",
        "name_sv": "Kemi stad, livskraftsnämnden",
        "name_en": "City of Kemi, Vitality Board",
        "public_authority": True,
        "address": "Valtakatu 26, 94100 Kemi",
        "phone": "016-259 111",
        "registry_email": "kirjaamo@kemi.fi",
    },
    {
        # Seed 002. The controller is the city board; the only address given is that of the administrative
        # services (Hallintopalvelut) where the contact person works. The seed gives no registry e-mail: the one
        # below follows the city's address pattern and is ours, as are the Swedish and English names.
        "key": "naantali",
        "name": "Naantalin kaupunginhallitus",
        "name_sv": "Nådendals stadsstyrelse",
        "name_en": "City Board of Naantali",
        "public_authority": True,
        "address": "Hallintopalvelut, Käsityöläiskatu 2, 21100 Naantali",
        "phone": "",
        "registry_email": "kirjaamo@naantali.fi",
    },
    {
        # Seed 003. The seed never names the company (nor its address or contacts): "Esimerkkiyritys Oy"
        # ("Example Company Ltd"), its address and its e-mail (on the reserved .example domain) are invented.
        # A company is no public authority: GDPR art. 37(1)(a) does not oblige it to name a data protection officer.
        "key": "example-company",
        "name": "Esimerkkiyritys Oy",
        "name_sv": "Exempelföretaget Ab",
        "name_en": "Example Company Ltd",
        "public_authority": False,
        "address": "Esimerkkikatu 1, 00100 Helsinki",
        "phone": "",
        "registry_email": "asiakaspalvelu@esimerkkiyritys.example",
    },
    {
        # Seed 004 (Swedish). The seed gives no e-mail: requests go through the city's registry office, as for 000.
        "key": "helsinki-service-centre",
        "name": "Helsingin kaupungin Palvelukeskus-liikelaitos",
        "name_sv": "Helsingfors stads Servicecentral-affärsverk",
        "name_en": "City of Helsinki Service Centre (municipal enterprise)",
        "public_authority": True,
        "address": "PB 9500, 00099 Helsingfors stad",
        "phone": "",
        "registry_email": "helsinki.kirjaamo@hel.fi",
    },
]

# A public authority must name its data protection officer (GDPR art. 37(1)(a), 13(1)(b)). Only seed 001 does;
# for the others the contacts below are ours: the City of Helsinki's data protection officer serves both Helsinki
# controllers, Naantali's follows the city's address pattern and the company's is on the reserved .example domain.
_HELSINKI_DPO = {
    "dpo_contact_fi": "Helsingin kaupungin tietosuojavastaava, tietosuoja@hel.fi",
    "dpo_contact_sv": "Helsingfors stads dataskyddsombud, tietosuoja@hel.fi",
    "dpo_contact_en": "Data Protection Officer of the City of Helsinki, tietosuoja@hel.fi",
}


# Seed 000: texts shared by the parent register and its two parts. The seed describes one register whose parts
# differ only in who handles register matters ("allt det ovanstående ingår inte i alla" is not broken down by part).
_HELSINKI_BUSINESS_COMMON = {
    "organisation": "helsinki-business",
    "kind": "customer",
    "owner_sv": (
        "Näringslivschef Nyrki Tuominen är registeransvarig. Som registerförare utövar näringslivsdirektör "
        "Eero Holstila beslutanderätt över registret."
    ),
    **_HELSINKI_DPO,
    "processors_sv": (
        "Systemet fungerar på servrar utanför stadens förvaltning. Endast den tekniska underhållspersonalen har "
        "åtkomsträttighet till servrarna. Dessa finns i ett serverrum som är försett med brandskydd och bevakas "
        "dygnet runt."
    ),
    "purposes_sv": (
        "Ändamålet med systemet är att föra register över näringslivsservicens kunder och samarbetspartner "
        "(företag, sammanslutningar och privatpersoner) för hantering av kundrelationerna och/eller "
        "samarbetsrelationerna.\n\n"
        "Registret används till produktion av tjänster och till leverans av tjänster och produkter till kunderna. "
        "Uppgifterna används till att rikta marknadsföringskommunikation från näringslivsservicen och/eller "
        "samarbetspartner till kunder och samarbetspartner utan att personuppgifterna lämnas ut till utomstående. "
        "Registret stöder dessutom forskning och statistikföring."
    ),
    # The seed predates the GDPR and names no legal basis. Inferred: "e" because the register serves the city's
    # business services in producing and delivering public services (a task in the public interest), and "a"
    # because marketing and disclosure for direct marketing or research require the data subject's permission
    # ("utan den registrerades tillstånd", FÖRBUDSRÄTT).
    "legal_bases": ["e", "a"],
    "national_basis_sv": "",
    "automated_decision_making": False,
    "automated_decision_details_sv": "",
    "data_categories_sv": (
        "För- och efternamn/företagets namn/sammanslutningens namn; födelsetid/FO-nummer; adress; demografisk "
        "information (yrke, utbildning osv.); telefonnummer för kontakt (telefonnummer i det fasta nätet och "
        "mobiltelefonnummer); faxnummer för kontakt; e-postadress för kontakt; språk; tilläggsinformation som "
        "kunden själv har lämnat; kundhistoria (t.ex. kontakter till/från kunden, köpta tjänster); information "
        "från företags- och sammanslutningskunder om kontaktpersoner och dessas uppgifter i "
        "företaget/sammanslutningen, dessutom användarinformation; information om fakturering och indrivning. "
        "Registret består av flera delar, och allt det ovanstående ingår inte i alla. I registret införs inga "
        "personbeteckningar."
    ),
    "collected_fields": [
        "date_of_birth",
        "business_id",
        "address",
        "occupation",
        "education",
        "landline",
        "mobile",
        "fax",
        "email",
        "language",
        "extra_info",
    ],
    "regular_sources_sv": (
        "Uppgifterna fås direkt från kunderna, dvs. företagen, sammanslutningarna och privatpersonerna. Dessutom "
        "används offentliga källor, bl.a. Itella Abp:s och Befolkningsregistercentralens adresstjänster."
    ),
    "recipients_sv": (
        "Personuppgifter lämnas ut endast till rättstjänsten vid Helsingfors stads förvaltningscentral eller till "
        "ekonomiförvaltningstjänsten för leverantörsreskontran. För verksamhetsberättelser, forskning o.d. lämnas "
        "endast statistiska uppgifter som inte innehåller personuppgifter ut ur systemet. Registeruppgifter lämnas "
        "inte ut för direktmarknadsföring eller marknads- och opinionsundersökningar utan den registrerades tillstånd."
    ),
    "openness_act_disclosures_sv": "",
    # The seed does not mention transfers outside the EU/EEA at all (it predates the GDPR); nothing in it suggests
    # any, and the register is "avsett endast för näringslivsservicen".
    "transfers_outside_eea_sv": "Inga uppgifter överförs utanför EU eller EES.",
    # The seed names marketing communication to the customers as a purpose ("rikta marknadsföringskommunikation
    # ... till kunder"): the one register family of the demo that offers campaigns, besides the company's.
    "direct_marketing": True,
    # The seed sets no period: "Sådana kunduppgifter i databasen som inte använts på länge raderas med jämna
    # mellanrum." 36 months (three years without use) is our reading of "på länge".
    "retention_months": 36,
    "retention_text_sv": (
        "De uppgifter som registrerats i informationssystemet bevaras. Uppgifterna arkiveras inte separat. Kund- och "
        "faktureringsuppgifter förvaras i en databas. Sådana kunduppgifter i databasen som inte använts på länge "
        "raderas med jämna mellanrum. Uppgifter förvaras i ett datalager så länge detta är nödvändigt med tanke på "
        "verksamheten. Material förstörs manuellt med en dokumentförstörare efter en viss tid."
    ),
    # Our translations of the seed's retention text.
    "retention_text_fi": (
        "Tietojärjestelmään tallennetut tiedot säilytetään. Tietoja ei arkistoida erikseen. Asiakas- ja "
        "laskutustiedot säilytetään tietokannassa. Tietokannan asiakastiedot, joita ei ole käytetty pitkään aikaan, "
        "poistetaan säännöllisin väliajoin. Tietoja säilytetään tietovarastossa niin kauan kuin se on toiminnan "
        "kannalta tarpeen. Paperiaineisto hävitetään määräajan jälkeen asiakirjasilppurilla."
    ),
    "retention_text_en": (
        "Data recorded in the information system is kept; it is not archived separately. Customer and invoicing "
        "data is kept in a database. Customer data in the database that has not been used for a long time is "
        "deleted at regular intervals. Data is kept in a data store as long as the operations require. Paper "
        "material is destroyed with a document shredder after a set time."
    ),
    "protection_principles_sv": (
        "De uppgifter som finns i registret används endast av näringslivsservicen. I registret införs inga "
        "personbeteckningar. Användningen av registret kräver en personlig användaridentifikation och ett personligt "
        "lösenord. Användaridentifikationen ges då åtkomsträttigheten beviljas. Åtkomsträttigheten upphör då den "
        "anställde inte längre sköter de uppgifter för vilka åtkomsträttigheten beviljats. Samtidigt tas "
        "användaridentifikationen ur bruk.\n\n"
        "Systemet fungerar på servrar utanför stadens förvaltning. Endast den tekniska underhållspersonalen har "
        "åtkomsträttighet till servrarna. Dessa finns i ett serverrum som är försett med brandskydd och bevakas "
        "dygnet runt. Med jämna mellanrum tas en automatisk säkerhetskopia av uppgifterna i registret."
    ),
    # "Rätten till insyn tillgodoses inom en vecka efter att begäran framförts."
    "access_answer_days": 7,
    "description_created_on": None,
    "description_updated_on": None,
}

_TOURISM_HANDLER = "Vid turist- och kongressbyrån: kontaktchef Tuulikki Becker."
_DEVELOPMENT_HANDLER = "Vid näringslivsutvecklingen: informatör Susanna Sinervuo."

REGISTERS = [
    # Seed 000: the register as a whole ...
    {
        **_HELSINKI_BUSINESS_COMMON,
        "slug": "helsinki-business-services",
        "parent": None,
        "name_fi": "Helsingin kaupungin elinkeinopalvelun asiakasrekisteri",
        "name_sv": "Kundregister för Helsingfors stads näringslivsservice",
        "name_en": "Customer register of the City of Helsinki Business Services",
        "handlers_sv": f"{_TOURISM_HANDLER}\n{_DEVELOPMENT_HANDLER}",
        "contact_person_sv": f"{_TOURISM_HANDLER}\n{_DEVELOPMENT_HANDLER}",
    },
    # ... its first part ...
    {
        **_HELSINKI_BUSINESS_COMMON,
        "slug": "helsinki-tourism-convention",
        "parent": "helsinki-business-services",
        "name_fi": "Matkailu- ja kongressitoimiston asiakasrekisteri",
        "name_sv": "Kundregister för turist- och kongressbyrån",
        "name_en": "Customer register of the Tourism and Convention Bureau",
        "handlers_sv": _TOURISM_HANDLER,
        "contact_person_sv": _TOURISM_HANDLER,
    },
    # ... and its second part.
    {
        **_HELSINKI_BUSINESS_COMMON,
        "slug": "helsinki-business-development",
        "parent": "helsinki-business-services",
        "name_fi": "Elinkeinokehityksen asiakasrekisteri",
        "name_sv": "Kundregister för näringslivsutvecklingen",
        "name_en": "Customer register of Business Development",
        "handlers_sv": _DEVELOPMENT_HANDLER,
        "contact_person_sv": _DEVELOPMENT_HANDLER,
    },
    # Seed 001: Kemi.
    {
        "slug": "kemi-vitality-crm",
        "organisation": "kemi",
        "parent": None,
        "kind": "customer",
        "name_fi": "Asiakasyritysten ja yhteistyökumppaneiden asiakkuudenhallinta -rekisteri",
        "name_sv": "Register för kundrelationshantering av kundföretag och samarbetspartner",
        "name_en": "Customer relationship management register of client companies and partners",
        "owner_fi": "Rekisterin vastuuhenkilö Hanna Alila, puh. 040-537 6261, hanna.alila@kemi.fi",
        "handlers_fi": (
            "Rekisterin tietoja käsittelevät vain nimetyt elinvoimatoimialan käyttäjät, jotka ovat oikeutettuja "
            "käsittelemään tietoja henkilökohtaisella käyttäjätunnuksella ja salasanalla."
        ),
        "contact_person_fi": "Hanna Alila, puh. 040-537 6261, hanna.alila@kemi.fi",
        "dpo_contact_fi": "Tietosuojavastaava Maria Vaittinen, puh. 040 184 1970, tietosuojavastaava@kemi.fi",
        # Our translations of the seed's contact.
        "dpo_contact_sv": "Dataskyddsombud Maria Vaittinen, tfn 040 184 1970, tietosuojavastaava@kemi.fi",
        "dpo_contact_en": "Data protection officer Maria Vaittinen, tel. +358 40 184 1970, tietosuojavastaava@kemi.fi",
        "processors_fi": (
            "Viestinnässä ja markkinoinnissa voidaan käyttää ulkopuolista asiantuntijaa tai ostopalvelua. Ulkopuolisen "
            "toimijan käyttö perustuu aina toimialan omiin sopimuksiin / päätöksiin, esim. verkkosivujen ylläpito. "
            "Henkilötietojen käsittely on mahdollista yhteistyötoimijoille ainoastaan siinä laajuudessa, kun toimijat "
            "tarvitsevat pääsyn voidakseen tarjota palveluita. Ylläpitojärjestelmä: HubSpot-asiakkuudenhallinta."
        ),
        "purposes_fi": (
            "Asiakasyritysten sekä yhteistyökumppaneiden asiakkuuden hoitaminen ja yhteydenpito "
            "yhteistyökumppaneihin elinvoimatoimialalla."
        ),
        # The seed lists these bases (the checkbox marks were lost in the PDF text): legal obligation (c),
        # public interest / official authority (e), consent (a), performance of a contract (b).
        "legal_bases": ["a", "b", "c", "e"],
        "national_basis_fi": "",
        "automated_decision_making": False,
        "automated_decision_details_fi": "",
        "data_categories_fi": (
            "Asiakkuusyrityksen ja -tahojen yhteyshenkilön nimi ja yhteystiedot, titteli, intressit ja toiminnat."
        ),
        "collected_fields": ["business_id", "address", "landline", "mobile", "email"],
        "regular_sources_fi": "Ei säännönmukaisia tietolähteitä; tiedot saadaan rekisteröidyiltä itseltään.",
        "recipients_fi": (
            "Ei säännönmukaista luovutustapaa sovittuna. Tietoja luovutetaan Kemin Digipolis oy:lle ja Pointin "
            "yrityspalvelutiimille, jossa mukana on Kemin kaupungin lisäksi Kemin Digipolis oy, Meri-Lapin "
            "työllisyysalue ja Lappia-Koulutus oy/Kemi-Tornionlaakson koulutuskuntayhtymä Lappia. Hanketyössä "
            "tietoja jaetaan hankekumppaneiden kesken suullisesti. Rekisteristä ei luovuteta tietoja "
            "suoramarkkinointiin, puhelinmyyntiin, osoitepalveluun eikä markkina- ja mielipidetutkimuksiin."
        ),
        "openness_act_disclosures_fi": (
            "Henkilötietoja luovutetaan vain yksilöidyn pyynnön ja ao. säädöksiin nojautuvan oikeuden perusteella: "
            "henkilötietoja luovutetaan pyynnöstä julkisuuslain (621/1999) 13 §:n ja 16 §:n 3 momentin mukaisesti. "
            "Asianosaisen oikeus tiedonsaantiin määräytyy julkisuuslain 11 §:n nojalla. Oikeus saada tietoja itseään "
            "koskevasta asiakirjasta määräytyy julkisuuslain 12 §:n nojalla. Asiakirjojen julkisuudessa noudatetaan "
            "lakia viranomaisen toiminnan julkisuudesta 621/1999 (24 §) sekä asiakohtaista erityislainsäädäntöä."
        ),
        "transfers_outside_eea_fi": "Tietoja ei luovuteta tai siirretä EU:n tai Euroopan talousalueen ulkopuolelle.",
        # "Rekisterissä olevia tietoja säilytetään, kunnes yritys / henkilö pyytää poistoa rekisteristä."
        "retention_months": None,
        "retention_text_fi": (
            "Tietojen säilytyksessä ja arkistoinnissa noudatetaan kulloinkin voimassa olevia säännöksiä, "
            "Kansallisarkiston määräyksiä sekä Tiedonhallintalautakunnan säilytysaikasuosituksia. Asiakirjatietojen "
            "säilytysajat sisältyvät Kemin kaupungin tiedonohjaussuunnitelmaan. Rekisterissä olevia tietoja "
            "säilytetään, kunnes yritys / henkilö pyytää poistoa rekisteristä."
        ),
        "retention_text_sv": (
            "Vid förvaring och arkivering av uppgifterna följs gällande bestämmelser, Riksarkivets föreskrifter och "
            "informationshanteringsnämndens rekommendationer om förvaringstider. Handlingarnas förvaringstider ingår "
            "i Kemi stads informationsstyrningsplan. Uppgifterna i registret förvaras tills företaget eller personen "
            "begär att de avlägsnas ur registret."
        ),
        "retention_text_en": (
            "Storage and archiving follow the regulations in force, the orders of the National Archives of Finland "
            "and the retention recommendations of the Information Management Board. The retention periods of "
            "documents are set in the City of Kemi's information management plan. Data in the register is kept "
            "until the company or person asks for its removal."
        ),
        "protection_principles_fi": (
            "A. Sähköinen aineisto: Sähköinen aineisto on suojattu henkilökohtaisilla tunnuksilla ja salasanoilla. "
            "Järjestelmän sisältöä rajoitetaan käyttöoikeusryhmillä. Tietoliikenneyhteys on salattu. Aineisto on "
            "tuotettu HubSpot-asiakkuudenhallintajärjestelmään. Rekisterin tietoja käsittelevät vain nimetyt "
            "käyttäjät henkilökohtaisella käyttäjätunnuksella ja salasanalla. Hankkeiden ja eri foorumeiden (esim. "
            "Pointin yrityspalvelutiimi) yhteystiedot säilytetään digitaalisessa muodossa.\n\n"
            "B. Manuaalinen aineisto: Manuaalinen aineisto sijaitsee lukituissa tiloissa ja lukituissa kaapeissa ja "
            "niiden käyttöä valvotaan. Rekisteristä ei kerry manuaalista aineistoa."
        ),
        "access_answer_days": 7,
        "description_created_on": datetime.date(2024, 3, 16),
        "description_updated_on": datetime.date(2026, 3, 2),
    },
    # Seed 002: Naantali.
    {
        "slug": "naantali-business-services",
        "organisation": "naantali",
        "parent": None,
        "kind": "customer",
        "name_fi": "Yrityspalveluiden asiakashallintajärjestelmä",
        "name_sv": "Näringslivstjänsternas kundhanteringssystem",
        "name_en": "Customer management system of the business services",
        "owner_fi": "Naantalin kaupunginhallitus (rekisterinpitäjä)",
        "handlers_fi": (
            "Järjestelmän pääkäyttäjä myöntää käyttäjätunnukset ja määrittää käyttäjille myönnettävän "
            "käyttöoikeustason; tietoihin pääsevät käsiksi vain tietyt ennalta määritellyt henkilöt."
        ),
        "contact_person_fi": (
            "Lassi Rosala, Hallintopalvelut, Käsityöläiskatu 2, 21100 Naantali, puh. 040 678 3270, "
            "lassi.rosala@naantali.fi"
        ),
        # The seed names no data protection officer; this contact is ours.
        "dpo_contact_fi": "Naantalin kaupungin tietosuojavastaava, tietosuojavastaava@naantali.fi",
        "dpo_contact_sv": "Nådendals stads dataskyddsombud, tietosuojavastaava@naantali.fi",
        "dpo_contact_en": "Data Protection Officer of the City of Naantali, tietosuojavastaava@naantali.fi",
        "processors_fi": "",
        "purposes_fi": "Asiakassuhteen hallinta ja asiakassuhteen hoitaminen.",
        # "Tietosuoja-asetus 6 art. e, tietosuojalaki 4 § 1"
        "legal_bases": ["e"],
        "national_basis_fi": "tietosuojalaki 4 § 1",
        "national_basis_sv": "dataskyddslagen 4 § 1 punkten",
        "national_basis_en": "Data Protection Act (1050/2018), section 4, point 1",
        "automated_decision_making": False,
        "automated_decision_details_fi": "",
        "data_categories_fi": (
            "Rekisteri koostuu ensisijaisesti viranomaislähteiden mukaisista yrityksen perustiedoista sisältäen "
            "tiedot yrityksen vastuuhenkilöistä. Yritykset ja organisaatiot voivat lisäksi itse ilmoittaa henkilöiden "
            "tietoja rekisteriin. Rekisterin käyttäjät voivat myös tallentaa tietoja rekisteriin. Vastuuhenkilöiden "
            "tiedot: nimi ja yhteystiedot; titteli ja vastuualue; yrityksen osoitetiedot; henkilön "
            "työsähköpostiosoite ja puhelinnumero; asiakassuhteen hoitamiseen liittyvät tiedot."
        ),
        "collected_fields": ["business_id", "address", "landline", "mobile", "email"],
        "regular_sources_fi": (
            "Rekisterin tärkeimpinä tietolähteinä ovat viranomaisrekisterit, kuten kaupparekisteri sekä muut "
            "rekisterit kuten PRH, YTJ, Bisnode jne. Lisäksi yritykset ja organisaatiot voivat itse ilmoittaa "
            "tietonsa rekisteriin."
        ),
        "recipients_fi": (
            "Tietoja ei luovuteta ulkopuolisille. Raportointia ja tilastointia varten asiakashallintajärjestelmästä "
            "tehdään yhteenvetotoimintoja, jotka laskevat yhteen asiakastapahtumien määriä ja toimenpiteitä. "
            "Yksilöitäviä tietoja ei raportoida. Yhteenvetoraportointia tehdään kaupungin luottamuselimiä ja "
            "virkamiesjohtoa varten."
        ),
        "openness_act_disclosures_fi": "",
        "transfers_outside_eea_fi": "Ei siirretä.",
        # The seed states no retention period and does not say data is kept until removal is requested. We use
        # 36 months of inactivity, the same reading as Helsinki's "not used for a long time"; the text below is
        # ours, not the seed's.
        "retention_months": 36,
        "retention_text_fi": (
            "Tietoja säilytetään niin kauan kuin ne ovat tarpeen asiakassuhteen hallintaan ja hoitamiseen. "
            "Asiakastiedot, joita ei ole käytetty kolmeen vuoteen, poistetaan."
        ),
        "retention_text_sv": (
            "Uppgifterna förvaras så länge de behövs för att hantera och sköta kundrelationen. Kunduppgifter som inte "
            "har använts på tre år raderas."
        ),
        "retention_text_en": (
            "Data is kept as long as it is needed to manage and maintain the customer relationship. Customer data "
            "not used for three years is deleted."
        ),
        "protection_principles_fi": (
            "Ei manuaalista aineistoa. Rekisterin käyttöoikeus edellyttää järjestelmän pääkäyttäjän myöntämää "
            "käyttäjätunnusta. Pääkäyttäjä määrittää myös käyttäjille myönnettävän käyttöoikeustason. "
            "Asiakashallintajärjestelmän käynnistäminen edellyttää henkilökohtaista salasanaa. Rekisterin käyttöä ja "
            "sisäänkirjautumisia valvotaan. Tiedot kerätään järjestelmän tietokantoihin, jotka ovat palomurein ja "
            "muilla teknisillä keinoilla suojattuja. Tietokannat sijaitsevat lukituissa ja vartioituissa tiloissa ja "
            "tietoihin pääsevät käsiksi vain tietyt ennalta määritellyt henkilöt."
        ),
        "access_answer_days": 7,
        "description_created_on": None,
        "description_updated_on": None,
    },
    # Seed 003: the private company (see ORGANISATIONS: its name is invented).
    {
        "slug": "company-customer-register",
        # Seed 003 lets the person forbid use "markkinointitarkoituksessa": marketing is one of its uses.
        "direct_marketing": True,
        "organisation": "example-company",
        "parent": None,
        "kind": "customer",
        "name_fi": "Asiakasrekisteri",
        "name_sv": "Kundregister",
        "name_en": "Customer register",
        # The seed refers to "rekisterin vastuuhenkilö" and "rekisterin yhteyshenkilö" without naming them.
        "owner_fi": "Rekisterin vastuuhenkilö, Esimerkkiyritys Oy",
        "handlers_fi": (
            "Ainoastaan määrätyillä yrityksen ja sen lukuun toimivien yritysten työntekijöillä, jotka ovat "
            "allekirjoittaneet salassapitositoumuksen, on oikeus käyttää asiakasrekisteriä ja ylläpitää sen tietoja."
        ),
        "contact_person_fi": "Rekisterin yhteyshenkilö tai yrityksen asiakaspalvelu",
        # Not required of a company (GDPR art. 37(1)(a)); the seed names none and this contact is invented.
        "dpo_contact_fi": "Tietosuojavastaava, tietosuoja@esimerkkiyritys.example",
        "dpo_contact_sv": "Dataskyddsombud, tietosuoja@esimerkkiyritys.example",
        "dpo_contact_en": "Data protection officer, tietosuoja@esimerkkiyritys.example",
        "processors_fi": (
            "Yritys saattaa käyttää asiakas- ja palvelusuhteen ylläpitämiseen yhteistyökumppaneita, jolloin osia "
            "rekisteritiedoista saatetaan siirtää yhteistyökumppanin palvelimille teknisten vaatimusten vuoksi. "
            "Tietoja käsitellään ainoastaan yrityksen asiakassuhteen ylläpitämiseen teknisten rajapintojen kautta. "
            "Ulkoista palveluntarjoajaa voidaan käyttää lisäarvopalvelun tuottamiseen tai luottopäätöksen tueksi."
        ),
        "purposes_fi": (
            "Rekisterin käyttötarkoitus on yrityksen asiakasrekisterin ylläpitäminen, asiakkaiden toimeksiantojen "
            "hallinnointi, arkistointi ja käsittely sekä asiakassuhteen hoitaminen. Tietoja voidaan käyttää "
            "yrityksen toiminnan kehittämiseen, tilastollisiin tarkoituksiin ja henkilökohtaisemman kohdennetun "
            "sisällön tuottamiseen verkkopalveluissamme. Rekisterin tietoja voidaan käyttää yrityksen omissa "
            "rekistereissä esimerkiksi mainonnan kohdistamiseen luovuttamatta henkilötietoja ulkopuolisille "
            "tahoille.\n\n"
            "Yrityksellä on oikeus julkaista asiakasrekisterin sisältämiä tietoja sähköisenä tai kirjallisena "
            "luettelona (esim. postitustarrat suoramainoksiin), ellei asiakas sitä erityisesti kiellä. Asiakkaalla on "
            "oikeus kieltää tietojen julkaiseminen ilmoittamalla siitä yrityksen asiakaspalveluun, sähköpostitse tai "
            "rekisterin yhteyshenkilölle."
        ),
        # The seed cites only the old Personal Data Act (henkilötietolaki), no GDPR article. Inferred: "b" because
        # the register serves customer relationships and assignments (contracts), invoicing and collection; "f"
        # because targeting of marketing and development of the business rest on the company's legitimate interest.
        "legal_bases": ["b", "f"],
        "national_basis_fi": "",
        "automated_decision_making": False,
        "automated_decision_details_fi": "",
        "data_categories_fi": (
            "Henkilön etu- ja sukunimi; edustamansa yhteisö; sähköpostiosoite; postiosoite; puhelinnumero; tiedot "
            "aikaisemmista toimeksiannoista."
        ),
        # "Puhelinnumero" is not split by type: both landline and mobile are allowed.
        "collected_fields": ["address", "landline", "mobile", "email"],
        "regular_sources_fi": (
            "Tietoja saadaan asiakkaan tekemistä rekisteröitymisistä sekä asiakassuhteen aikana asiakkaan tekemistä "
            "ilmoituksista. Nimi- ja yhteystietojen päivityksiä saadaan myös päivityspalveluja tarjoavilta "
            "viranomaisilta ja yrityksiltä. Tietoja voidaan saada myös alihankkijoilta, jotka liittyvät palvelun "
            "käyttämiseen tai tuottamiseen. Asiakkaiden muista toimista digitaalisessa ympäristössä voidaan saada "
            "tietoja yhteistyökumppaneiden sivustoista, tietojärjestelmistä tai muista digitaalisista lähteistä, "
            "joihin kirjaudutaan sähköisen kutsun kautta (linkki), evästeiden kautta tai käyttämällä asiakkaille "
            "annettuja tunnuksia."
        ),
        "recipients_fi": (
            "Asiakasrekisterin tiedot ovat ainoastaan yrityksen käytössä, paitsi käytettäessä ulkoista "
            "palveluntarjoajaa joko lisäarvopalvelun tuottamiseen tai luottopäätöksen tueksi. Tietoja ei luovuteta "
            "yrityksen ulkopuolelle tai sen yhteistyökumppaneiden käyttöön, paitsi luottohakemukseen, perintään tai "
            "laskutukseen liittyvissä asioissa sekä lainsäädännön velvoittaessa."
        ),
        "openness_act_disclosures_fi": "",
        "transfers_outside_eea_fi": (
            "Henkilötietoja ei siirretä Euroopan unionin ulkopuolelle, ellei se ole yrityksen tai sen "
            "yhteistyökumppanin teknisen toteutuksen varmistamiseksi tarpeellista."
        ),
        # The seed sets no period, only erasure on request unless law, open invoices or collection prevent it.
        # 60 months (five years after the customer relationship) leaves room for invoicing, collection and
        # limitation periods; bookkeeping material follows the Accounting Act separately.
        "retention_months": 60,
        "retention_text_fi": (
            "Rekisteröityneen henkilötiedot hävitetään käyttäjän pyynnöstä, ellei lainsäädäntö, avoimet laskut tai "
            "perintätoimet estä tietojen poistamista."
        ),
        "retention_text_sv": (
            "Den registrerades personuppgifter förstörs på begäran, om inte lagstiftning, öppna fakturor eller "
            "indrivningsåtgärder hindrar att uppgifterna raderas."
        ),
        "retention_text_en": (
            "A registered person's data is destroyed at their request unless legislation, open invoices or "
            "collection measures prevent its deletion."
        ),
        "protection_principles_fi": (
            "A. Manuaalinen aineisto: Asiakastapahtumissa kerättävät yhteystiedot ja muut manuaalisesti käsiteltävät "
            "asiakastietoja sisältävät asiakirjat säilytetään yrityksen turvallisissa säilytystiloissa. Ainoastaan "
            "määrätyillä, salassapitositoumuksen allekirjoittaneilla työntekijöillä on oikeus käsitellä manuaalisesti "
            "tallennettuja asiakastietoja.\n\n"
            "B. ATK:lla käsiteltävät toiminnot: Ainoastaan määrätyillä yrityksen ja sen lukuun toimivien yritysten "
            "työntekijöillä on oikeus käyttää asiakasomistaja- ja asiakasrekisteriä ja ylläpitää sen tietoja. "
            "Kullakin määritellyllä käyttäjällä on oma henkilökohtainen käyttäjätunnus ja salasana. Jokainen käyttäjä "
            "on allekirjoittanut salassapitositoumuksen. Järjestelmä on suojattu palomuurilla, joka suojaa "
            "ulkopuolelta tulevia yhteydenottoja järjestelmään."
        ),
        "access_answer_days": 7,
        "description_created_on": None,
        "description_updated_on": None,
    },
    # Seed 004: the Helsinki Service Centre contact centre.
    {
        "slug": "helsinki-contact-centre",
        "organisation": "helsinki-service-centre",
        "parent": None,
        "kind": "contact_centre",
        "name_fi": "Genesys contact center -järjestelmä",
        "name_sv": "Systemet Genesys contact center",
        "name_en": "Genesys contact centre system",
        "owner_sv": "Chefen för enheten telefon- och välbefinnandetjänster.",
        "handlers_sv": (
            "Experterna vid Servicecentralens telefon- och välbefinnandetjänster samt de beställarklienters chefer "
            "som använder systemet. Ansvarig för upprätthållandet av registeruppgifterna är Servicecentralens "
            "telefon- och välbefinnandetjänster."
        ),
        "contact_person_sv": "Den utbildade personalen inom telefon- och välbefinnandetjänster.",
        **_HELSINKI_DPO,
        "processors_sv": "",
        "purposes_sv": (
            "Systemet Contact center används för hantering av såväl klientsamtal som e-postmeddelanden till och från "
            "klienter. Inga klientuppgifter om samtalen sparas i systemet. Uppgifterna används till att svara på "
            "e-postmeddelanden.\n\n"
            "Samtalsinspelningarna, som man informerar om i början av samtalet, används av Servicecentralens "
            "telefon- och välbefinnandetjänster för att upprätthålla servicens kvalitet och på begäran av "
            "beställarklienten (ämbetsverk eller affärsverk) för att utreda oklara klientkontakter eller "
            "klientkontakter som kräver tilläggsuppgifter. Inspelningarna bildar inget klientregister."
        ),
        # The seed names no legal basis. Inferred: "e", the Service Centre answers citizens' calls and e-mails on
        # behalf of city departments, i.e. in the exercise of the city's public tasks.
        "legal_bases": ["e"],
        "national_basis_sv": "",
        "automated_decision_making": False,
        "automated_decision_details_sv": "",
        "data_categories_sv": (
            "Mottagna och utskickade e-postmeddelanden arkiveras i systemet. Tillämpningen innehåller de "
            "e-postmeddelanden som klienten skickat i den form som klienten har skickat dem. Det bildas inget "
            "egentligt klientregister av uppgifterna. Inspelningsidentifikationen består av datum, klientbetjänarens "
            "platskod samt en del av klientens telefonnummer."
        ),
        "collected_fields": [],
        "regular_sources_sv": "E-postmeddelandena som klienterna skickat.",
        "recipients_sv": (
            "Registeruppgifterna är sekretessbelagda. De lämnas ut med stöd av rätt till information som grundar sig "
            "på lag. Registeruppgifterna lämnas inte ut för direktreklam, distansförsäljning eller annan "
            "direktmarknadsföring och inte heller för marknads- eller opinionsundersökningar eller personmatriklar "
            "eller släktforskning. Inspelningarna lämnas inte ut till slutanvändaren; beställarklienterna får "
            "inspelningarna av sina egna samtal från Servicecentralen genom en skriftlig begäran eller kan lyssna på "
            "dem direkt i Genesys-systemet om Servicecentralen har beviljat nödvändiga användarrättigheter."
        ),
        "openness_act_disclosures_sv": "",
        "transfers_outside_eea_sv": "Registeruppgifter överförs inte utanför EU eller EES.",
        # Messages are kept as long as the ordering department is a client: no fixed period. The recordings have
        # their own six-month rule, stated in retention_text.
        "retention_months": None,
        "retention_text_sv": (
            "Uppgifterna som sparas i Genesys-tillämpningen förvaras i databasen så länge som beställarklienten "
            "(ämbetsverk eller affärsverk) är telefon- och välbefinnandetjänsternas klient. Samtalsinspelningarna "
            "förvaras i sex (6) månader, varefter de förstörs."
        ),
        # Our translations of the seed's retention text.
        "retention_text_fi": (
            "Genesys-sovellukseen tallennetut tiedot säilytetään tietokannassa niin kauan kuin tilaaja-asiakas "
            "(virasto tai liikelaitos) on puhelin- ja hyvinvointipalvelujen asiakas. Puhelutallenteita säilytetään "
            "kuusi (6) kuukautta, minkä jälkeen ne hävitetään."
        ),
        "retention_text_en": (
            "Data stored in the Genesys application is kept in the database as long as the ordering client (a city "
            "department or enterprise) is a client of the telephone and wellbeing services. Call recordings are kept "
            "for six (6) months and then destroyed."
        ),
        "protection_principles_sv": (
            "Personer som gör ändringar i uppgifterna loggar in i registret med ett personligt användarnamn och "
            "lösenord. Endast experterna vid Servicecentralens telefon- och välbefinnandetjänster eller "
            "beställarklienters chefer, som använder systemet, kan utreda meddelanden efteråt. Samtalsinspelningarna "
            "sparas inte i cc-systemet utan på en server i en bevakad datorsal som Servicecentralen använder. Vid "
            "behov lyssnas inspelningarna i Servicecentralens eller i Servicecentralens klientämbetsverks lokaler. "
            "Meddelandena förvaras i den form som klienten har skickat dem och det finns ingen möjlighet att "
            "korrigera dem."
        ),
        "access_answer_days": 7,
        "description_created_on": None,
        "description_updated_on": None,
    },
]

# City departments (beställarklienter, "ämbetsverk eller affärsverk") that buy the contact-centre service. The seed
# names none; these are Helsinki's current divisions (toimialat / sektorer), in Swedish like the seed.
ORDERING_CLIENTS = [
    {"register": "helsinki-contact-centre", "department": "Social-, hälsovårds- och räddningssektorn"},
    {"register": "helsinki-contact-centre", "department": "Fostrans- och utbildningssektorn"},
    {"register": "helsinki-contact-centre", "department": "Stadsmiljösektorn"},
]
