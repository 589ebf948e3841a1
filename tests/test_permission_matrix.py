"""The permission matrix (issue 11, class check of group A): every URL pattern, every role, every kind of object.

The routes come from the URL configuration (`get_resolver()`), the admin included. Each one is opened with GET and
with an empty POST by each persona of the demo (see README, registers/roles.py):

    anon     not signed in
    main     the main user (administrator; no role in any register)
    owner    register owner of A
    handler  register handler of A
    staff    staff user of A
    expert   contact-centre expert (read-only) of A and of the contact-centre register C
    manager  ordering client's manager in C: department X only
    norole   signed in, no role anywhere

against an object of each kind the route takes:

    own      the persona's side: register A (customer routes) or C, department X (archive routes)
    other    register B (customer routes) or D (archive routes): nobody but the main user administers them
    cross    A's (or C's) register and parents, with the last key taken from B (D): the IDOR probe
    client   another ordering client's message in C (department Y)
    multi    a data-subject request covering A and B (every persona holds roles in A only)
    random   a random UUID (or slug) in A's place
    -        routes without an object

Expected outcomes come from `TABLE` alone: a route missing from it fails `test_every_route_has_an_entry`.
Besides the status, every cell checks that no response carries personal data of a register (or department)
the persona holds no role in (`MARKERS`), and that a refused request (403/404/405/login) changed nothing.
Each route is one test that collects all its failing cells into one message; a known leak owned by another
part is a separate strict xfail (`LEAKS`).
"""

import datetime
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models, transaction
from django.shortcuts import resolve_url
from django.test import Client, override_settings
from django.utils import timezone, translation

from api.services import api_client_create
from archive.services import message_archive
from campaigns.models import Campaign, CampaignRecipient
from campaigns.sending import unsubscribe_token
from crm.models import CompanyChange, ContactCentreMessage, Customer, CustomerTag, SavedView, Tag
from duplicates.models import DuplicateCandidate
from duplicates.services import customer_merge
from followups.models import FollowUp
from imports.services import import_batch_create
from openness import services as openness_services
from privacy.requests import services, tokens
from privacy.requests.models import DataSubjectRequest
from privacy.requests.workflow import request_transition
from privacy.retention import holds
from privacy.rights import consent, notices
from privacy.rights.models import ConsentNotice, ConsentRecord
from registers import access_review
from registers.models import AccessReviewItem, Role
from registers.services import main_users_group_ensure
from segments.models import BulkAction
from selfservice.models import Assurance, IdentityLink, SubjectIdentity

from .conftest import TwoFactorClient, grant
from .factories import (
    CallRecordingFactory,
    ContactCentreRegisterFactory,
    ContactPersonFactory,
    CustomerFactory,
    InteractionFactory,
    OrderingClientFactory,
    OrganisationFactory,
    PersonCustomerFactory,
    RegisterFactory,
    UserFactory,
)
from .url_walk import CONVERTER, project_routes

PERSONAS = ("anon", "main", "owner", "handler", "staff", "expert", "manager", "norole")
METHODS = ("GET", "POST")

# Outcomes. OK: the view served the persona (a page, a file, a redirect after the action, or the form back with
# its errors); the exact code is the feature tests' business. The others are refusals.
OK = "ok"
LOGIN = "login"  # 302 to the sign-in page
ADMIN_LOGIN = "admin-login"  # 302 to the admin's sign-in page
GONE = 410
OK_STATUSES = {200, 302, 400}
REFUSALS = {401, 403, 404, 405, LOGIN, ADMIN_LOGIN, GONE}

# Who holds what (registers/roles.py): the groups the table speaks of.
A_VIEW = {"owner", "handler", "staff", "expert"}
A_CHANGE = {"owner", "handler", "staff"}
A_HANDLE = {"owner", "handler"}  # handle requests, manage access
A_OWNER = {"owner"}  # approve requests, review access, owner screens
C_VIEW = {"expert", "manager"}


@dataclass(frozen=True)
class Rule:
    """What each persona gets from one route.

    `family` says which objects fill the URL. `get`/`post` map an outcome to the personas that get it for
    their own object (and for a multi-register request); everybody else signed in gets `default` (404:
    a forbidden object looks missing). Objects of another register, cross-register keys and random keys
    give 404 to everybody, except that `main_everywhere` gives the main user the same on every register.
    A bare outcome (e.g. 405) applies to every signed-in persona and object. `public` routes answer
    anonymous visitors with `anon` instead of the sign-in page.
    """

    family: str
    get: object
    post: object = "same"
    default: object = 404
    main_everywhere: bool = False
    public: bool = False
    anon: object = LOGIN
    client_ok: frozenset = frozenset()  # personas who may see department Y's message
    any_object: bool = False  # the admin: the answer depends on the model's rights, not on the row
    personas: tuple = PERSONAS
    multi: dict | None = None  # outcomes on the request covering A and B, when they differ from `get`/`post`
    refuse_first: bool = False  # the view refuses by role before it looks the object up


def R(family, get, post="same", **kwargs):  # noqa: N802 (short, as it is written a hundred times in TABLE)
    return Rule(family, get, post, **kwargs)


def who(**groups):
    """Build an outcome map: who(OK=A_VIEW, _403={"staff"}) -> {OK: {...}, 403: {...}}."""
    result = {}
    for key, personas in groups.items():
        outcome = {"OK": OK, "LOGIN": LOGIN, "OK_OR_403": frozenset({OK, 403})}.get(key) or int(key.strip("_"))
        result[outcome] = set(personas)
    return result


READ_A = who(OK=A_VIEW)
# Every step of a request covering A and B needs the right in both: a role in A alone is refused.
MULTI_REFUSED = who(_403=A_VIEW)
MULTI_REFUSED_OR_MISSING = {frozenset({403, 404}): A_VIEW}
CHANGE_A = who(OK=A_CHANGE, _403={"expert"})
IMPORT_A = who(OK=A_HANDLE, _403=A_VIEW - A_HANDLE)  # roles.IMPORT_CUSTOMERS
MERGE_A = who(OK=A_HANDLE, _403=A_VIEW - A_HANDLE)  # roles.MERGE_CUSTOMERS
SEND_A = who(OK=A_HANDLE, _403=A_VIEW - A_HANDLE)  # roles.SEND_CAMPAIGNS
TAGS_A = who(OK=A_HANDLE, _403=A_VIEW - A_HANDLE)  # roles.MANAGE_TAGS
OWNER_DATA = who(OK=A_OWNER, _403=A_VIEW - A_OWNER)  # changes only the owner's role allows inside the data
OWNER_SCREEN = who(OK=A_OWNER | {"main"}, _403=A_VIEW - A_OWNER)
MANAGER_SCREEN = who(OK=A_HANDLE | {"main"}, _403=A_VIEW - A_HANDLE)
REQUEST_READ = who(OK=A_HANDLE, _403=A_VIEW - A_HANDLE)
REQUEST_APPROVE = who(OK=A_OWNER, _403=A_VIEW - A_OWNER)
PUBLIC_PAGE = who(OK=set(PERSONAS))
MAIN_ONLY = who(OK={"main"}, _403=set(PERSONAS) - {"anon", "main"})

# One entry per URL name. Families: see `World.kwargs_for`.
TABLE: dict[str, Rule] = {
    # Sign-in and account pages.
    "home": R("-", PUBLIC_PAGE),
    "login": R("-", PUBLIC_PAGE, public=True, anon=OK),
    # Signing out is a POST that ends on the sign-in page.
    "logout": R("-", 405, post=who(LOGIN=set(PERSONAS))),
    "password_change": R("-", PUBLIC_PAGE),
    "password_change_done": R("-", PUBLIC_PAGE, post=405),
    "two-factor": R("-", PUBLIC_PAGE),
    "password_reset_confirm": R("reset", PUBLIC_PAGE, public=True, anon=OK),
    "password_reset_complete": R("-", PUBLIC_PAGE, post=405, public=True, anon=(OK, 405)),
    "set_language": R("-", 405, post=PUBLIC_PAGE, public=True, anon=(405, OK)),
    "registers:commitment": R("-", PUBLIC_PAGE),
    # No commitment is pending in this world: every code is somebody else's or unknown.
    "registers:commitment-accept": R("commitment", 405, post=404),
    "registers:user-list": R("-", MAIN_ONLY),
    "registers:user-create": R("-", who(OK={"main"} | A_HANDLE, _403={"staff", "expert", "manager", "norole"})),
    # Accounts are the main user's: anybody else is refused before the username is looked up.
    "registers:user-detail": R("user", MAIN_ONLY, default=403, refuse_first=True),
    "registers:user-deactivate": R("user", 405, post=MAIN_ONLY, default=403, refuse_first=True),
    "registers:login-log": R("-", MAIN_ONLY),
    # Access management and reviews of register A.
    "registers:membership-list": R("reg", MANAGER_SCREEN, main_everywhere=True),
    "registers:membership-grant": R("reg", 405, post=MANAGER_SCREEN, main_everywhere=True),
    "registers:membership-end": R("membership", 405, post=MANAGER_SCREEN, main_everywhere=True),
    "registers:review-list": R("reg", OWNER_SCREEN, main_everywhere=True),
    # Only an owner opens a campaign; the main user follows them (admin) but does not run them.
    "registers:review-open": R(
        "reg", 405, post=who(OK=A_OWNER, _403=A_VIEW - A_OWNER | {"main"}), main_everywhere=True
    ),
    "registers:review-detail": R("review", OWNER_SCREEN, main_everywhere=True),
    "registers:review-item-decide": R("review", 405, post=OWNER_SCREEN, main_everywhere=True),
    "registers:review-complete": R("review", 405, post=OWNER_SCREEN, main_everywhere=True),
    "registers:review-pdf": R("review", OWNER_SCREEN, main_everywhere=True),
    # Audit screens: the main user sees every register's, with personal data redacted.
    "registers:audit-changes": R("reg", OWNER_SCREEN, main_everywhere=True),
    "registers:audit-access": R("reg", OWNER_SCREEN, main_everywhere=True),
    "registers:audit-logins": R("reg", OWNER_SCREEN, main_everywhere=True),
    # Register descriptions are public; preview, publication and the art. 30 record are the owner's.
    # The art. 30 record lists every register the user owns (the main user: all); nobody else has one.
    "descriptions:processing-records": R("-", who(OK=A_OWNER | {"main"}), post=405),
    "descriptions:processing-records-table": R("-", who(OK=A_OWNER | {"main"}), post=405),
    "descriptions:processing-records-pdf": R("-", who(OK=A_OWNER | {"main"}), post=405),
    "descriptions:detail": R("reg", PUBLIC_PAGE, post=405, public=True, anon=(OK, 405)),
    # The same public PDF for everybody: rendered for three personas only, to keep the matrix fast.
    "descriptions:pdf": R(
        "reg", PUBLIC_PAGE, post=405, public=True, anon=(OK, 405), personas=("anon", "main", "norole")
    ),
    "descriptions:preview": R("reg", OWNER_SCREEN, post=405, main_everywhere=True),
    "descriptions:publish": R("reg", 405, post=OWNER_SCREEN, main_everywhere=True),
    # Retention and statistics: owners and the main user.
    "retention:preview": R("reg", OWNER_SCREEN, post=405, main_everywhere=True),
    "retention:hold-place": R("reg", 405, post=OWNER_SCREEN, main_everywhere=True),
    "retention:hold-release": R("hold", 405, post=OWNER_SCREEN, main_everywhere=True),
    "retention:run": R("reg", 405, post=OWNER_SCREEN, main_everywhere=True),
    "statistics:register": R("reg", OWNER_SCREEN, post=405, main_everywhere=True),
    "statistics:register-csv": R("reg", OWNER_SCREEN, post=405, main_everywhere=True),
    # The staff workspace.
    "crm:customer-list": R("reg", READ_A, post=405),
    "crm:customer-export": R("reg", READ_A, post=405),
    "crm:customer-labels-csv": R("reg", READ_A, post=405),
    "crm:customer-labels-pdf": R("reg", READ_A, post=405),
    "crm:customer-create": R("reg", CHANGE_A),
    # Integration clients (issue 19): the main user's, like the accounts; scopes and revoke are POST only.
    "api_clients:list": R("-", MAIN_ONLY),
    "api_clients:create": R("-", MAIN_ONLY),
    "api_clients:detail": R("api-client", MAIN_ONLY, default=403, refuse_first=True),
    "api_clients:scopes": R("api-client", 405, post=MAIN_ONLY, default=403, refuse_first=True),
    "api_clients:revoke": R("api-client", 405, post=MAIN_ONLY, default=403, refuse_first=True),
    # Linking a customer to a Helsinki profile (issue 19): the keepers of the register, as for request handling.
    "crm:customer-profile-link": R("customer", who(OK=A_HANDLE, _403=A_VIEW - A_HANDLE)),
    # The new-customer form's live duplicate check: POST only, so that what is typed stays out of the URL.
    "crm:customer-duplicate-check": R("reg", 405, post=CHANGE_A),
    "crm:customer-detail": R("customer", READ_A, post=405),
    "crm:customer-update": R("customer", CHANGE_A),
    # Deleting a customer for good is the owner's (roles.DELETE_CUSTOMERS).
    "crm:customer-delete": R("customer", OWNER_DATA),
    # Who changed and viewed a customer: the register's owners, as they read its audit trail.
    "crm:customer-history": R("customer", OWNER_DATA, post=405),
    "crm:contact-person-create": R("customer", CHANGE_A),
    "crm:contact-person-update": R("contact", CHANGE_A),
    "crm:contact-person-delete": R("contact", CHANGE_A),
    "crm:interaction-create": R("customer", CHANGE_A),
    # The world's entry was recorded by none of the personas: only the owner changes a colleague's entry
    # (roles.CHANGE_OTHERS_ENTRIES); tests/crm/test_delete_rights.py covers one's own.
    "crm:interaction-update": R("interaction", OWNER_DATA),
    "crm:interaction-delete": R("interaction", OWNER_DATA),
    # The contact-centre archive: a manager sees the own department's messages only.
    "crm:message-list": R("cc", who(OK=C_VIEW), post=405),
    "crm:message-detail": R("message", who(OK=C_VIEW), post=405, client_ok=frozenset({"expert"})),
    "crm:message-thread": R("message", who(OK=C_VIEW), post=405, client_ok=frozenset({"expert"})),
    "crm:message-attachment": R("attachment", who(OK=C_VIEW), post=405, client_ok=frozenset({"expert"})),
    # The unmasked original: the expert only (roles.READ_ARCHIVE_ORIGINALS); a manager who may read the
    # message is refused, one who may not finds nothing. An empty POST shows it (and logs the viewing).
    "crm:message-original": R("message", who(OK={"expert"}, _403={"manager"}), client_ok=frozenset({"expert"})),
    "crm:message-export": R("cc", who(OK=C_VIEW), post=405),
    # Historical mail in (roles.ADD_ARCHIVE_MAIL): of the personas only the expert holds it in C; an empty
    # POST gets the form back with its errors.
    "archive:message-upload": R("cc", who(OK={"expert"}, _403={"manager"})),
    "crm:call-recording-list": R("cc", who(OK=C_VIEW), post=405),
    # Follow-ups (issue 18): one's own list and digest setting; a register's follow-ups for those who change data.
    "followups:mine": R("-", PUBLIC_PAGE, post=405),
    "followups:digest-setting": R("-", 405, post=PUBLIC_PAGE),
    "followups:followup-create": R("customer", CHANGE_A),
    "followups:followup-update": R("followup", CHANGE_A),
    "followups:followup-delete": R("followup", CHANGE_A),
    "followups:followup-done": R("followup", 405, post=CHANGE_A),
    "followups:followup-reopen": R("followup", 405, post=CHANGE_A),
    # Tags: everybody with a role reads the register's tags; its keepers name them (roles.MANAGE_TAGS); whoever
    # changes data puts them on customers.
    "segments:tag-list": R("reg", READ_A, post=405),
    "segments:tag-create": R("reg", TAGS_A),
    "segments:tag-rename": R("tag", TAGS_A),
    "segments:tag-delete": R("tag", TAGS_A),
    "segments:customer-tag-add": R("customer", 405, post=CHANGE_A),
    "segments:customer-tag-remove": R("customer-tag", 405, post=CHANGE_A),
    "segments:contact-person-tag-add": R("contact", 405, post=CHANGE_A),
    "segments:contact-person-tag-remove": R("contact-tag", 405, post=CHANGE_A),
    # Saved views: anyone who reads the list saves one; only its owner changes it (a shared one is 403 to the
    # others, a private one would be 404).
    "segments:view-create": R("reg", READ_A),
    "segments:view-update": R("savedview", OWNER_DATA),
    "segments:view-delete": R("savedview", OWNER_DATA),
    # Bulk actions: whoever changes data starts one; its progress is its starter's alone.
    "segments:bulk-start": R("reg", CHANGE_A),
    "segments:bulk-detail": R("bulk", who(OK=A_OWNER), post=405),
    # Campaigns (roles.SEND_CAMPAIGNS): the register's keepers, in a register whose description allows marketing.
    "campaigns:list": R("reg", SEND_A, post=405),
    "campaigns:create": R("reg", SEND_A),
    "campaigns:detail": R("campaign", SEND_A, post=405),
    "campaigns:update": R("campaign", SEND_A),
    "campaigns:progress": R("campaign", SEND_A, post=405),
    "campaigns:test-send": R("campaign", 405, post=SEND_A),
    "campaigns:queue": R("campaign", 405, post=SEND_A),
    "campaigns:cancel": R("campaign", 405, post=SEND_A),
    # The one-click objection link of a campaign message: no sign-in, the signed token is the key.
    "campaigns:unsubscribe": R("unsubscribe-token", PUBLIC_PAGE, public=True, anon=OK),
    # The public request form and the links sent by e-mail (a signed token is the key).
    "privacy:request-create": R("-", PUBLIC_PAGE, public=True, anon=OK),
    "privacy:request-sent": R("-", PUBLIC_PAGE, public=True, anon=OK),
    "privacy:request-form": R("organisation", PUBLIC_PAGE, public=True, anon=OK),
    "privacy:confirm": R("confirm-token", PUBLIC_PAGE, public=True, anon=OK),
    "privacy:status": R("token", PUBLIC_PAGE, public=True, anon=OK),
    "privacy:withdraw": R("token", 405, post=PUBLIC_PAGE, public=True, anon=(405, OK)),
    "privacy:download": R("download-token", PUBLIC_PAGE, public=True, anon=OK),
    "privacy:download-file": R("download-token", PUBLIC_PAGE, public=True, anon=OK),
    # An access request is answered with a package, not a letter.
    "privacy:status-letter": R("token", who(_404=set(PERSONAS)), public=True, anon=404),
    "privacy:consent-withdraw": R("consent-token", PUBLIC_PAGE, public=True, anon=OK),
    # Staff screens of data-subject requests: handlers and approvers of a register the request concerns;
    # other roles there get 403, everybody else 404.
    "privacy:queue": R("-", PUBLIC_PAGE),
    "privacy:request-new": R("-", who(OK=A_HANDLE, _403={"main", "staff", "expert", "manager", "norole"})),
    "privacy:request-detail": R("request", REQUEST_READ),
    # Searching a request covering A and B: refused, or A's records only.
    "privacy:request-search": R("request", REQUEST_READ, multi=who(OK_OR_403=A_HANDLE, _403=A_VIEW - A_HANDLE)),
    "privacy:request-verify": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:request-ask": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:request-extend": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:request-cannot-identify": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:request-duplicate": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:request-prepare": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:request-approve": R("request", 405, post=REQUEST_APPROVE, multi=MULTI_REFUSED),
    "privacy:request-move": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    # No mandate was attached: 404 for those who may see it.
    "privacy:request-mandate": R("request", who(_404=A_HANDLE, _403=A_VIEW - A_HANDLE), multi=MULTI_REFUSED),
    # The answer of a request covering A and B: refused, or A's part only (the marker check sees B's data).
    "privacy:request-package": R("request", REQUEST_READ, multi=who(OK_OR_403=A_HANDLE, _403=A_VIEW - A_HANDLE)),
    "privacy:figures": R("-", PUBLIC_PAGE),
    # Document requests (issue 21): anyone may file one; the authority's request handlers and owners handle them.
    "openness:request-start": R("-", PUBLIC_PAGE, post=405, public=True, anon=(OK, 405)),
    "openness:request-form": R("organisation", PUBLIC_PAGE, public=True, anon=OK),
    "openness:request-sent": R("-", PUBLIC_PAGE, post=405, public=True, anon=(OK, 405)),
    "openness:queue": R("-", PUBLIC_PAGE, post=405),
    "openness:figures": R("-", PUBLIC_PAGE, post=405),
    "openness:intake": R("-", who(OK=A_HANDLE, _403=set(PERSONAS) - A_HANDLE - {"anon"})),
    "openness:detail": R("document-request", who(OK=A_HANDLE), post=405),
    "openness:action": R("document-request", 405, post=who(OK=A_HANDLE)),
    "openness:disclose": R("document-request", 405, post=who(OK=A_HANDLE)),
    # The request of the world has no refusal yet: its letters are 404 for those who may see it.
    "openness:letter": R("document-request", who(_404=A_HANDLE), post=405),
    # The data subject's "my data" pages (issue 20): a visitor without the person's own session, staff included,
    # gets the sign-in page and nothing else; strong identification is not configured here, so sign-in is 404.
    "selfservice:my-data": R("my-data", PUBLIC_PAGE, public=True, anon=OK),
    "selfservice:sign-in": R("my-data", 405, post=who(_404=set(PERSONAS)), public=True, anon=(405, 404)),
    "selfservice:callback": R("my-data", who(_404=set(PERSONAS)), post=405, public=True, anon=(404, 405)),
    "selfservice:sign-out": R("my-data", 405, post=PUBLIC_PAGE, public=True, anon=(405, OK)),
    "selfservice:signed-out": R("my-data", PUBLIC_PAGE, post=405, public=True, anon=(OK, 405)),
    "selfservice:objection": R("my-data", PUBLIC_PAGE, public=True, anon=OK),
    "selfservice:consent-withdraw": R("my-data", PUBLIC_PAGE, public=True, anon=OK),
    "selfservice:request-start": R("my-data", PUBLIC_PAGE, public=True, anon=OK),
    "selfservice:request-new": R("my-data", PUBLIC_PAGE, public=True, anon=OK),
    "selfservice:request": R("my-data", PUBLIC_PAGE, public=True, anon=OK),
    "selfservice:answer-open": R("my-data", PUBLIC_PAGE, public=True, anon=OK),
    "selfservice:answer-file": R("my-data", PUBLIC_PAGE, public=True, anon=OK),
    # The handlers' queue of links to confirm: everyone signed in sees it, with the links of the registers where
    # they handle requests; a decision needs that right in the link's register.
    "selfservice:link-queue": R("-", PUBLIC_PAGE, post=405),
    "selfservice:link-confirm": R("identity-link", 405, post=who(OK=A_HANDLE)),
    "selfservice:link-reject": R("identity-link", 405, post=who(OK=A_HANDLE)),
    "privacy:rights": R("request", REQUEST_READ),
    "privacy:rights-letter": R("request", who(_404=A_HANDLE, _403=A_VIEW - A_HANDLE), multi=MULTI_REFUSED_OR_MISSING),
    "privacy:rights-prepare": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:rights-correction-add": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:rights-correction-archive": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:rights-correction-apply": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:rights-correction-refuse": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:rights-erasure-plan": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:rights-erasure-mention": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:rights-erasure-execute": R("request", 405, post=REQUEST_APPROVE, multi=MULTI_REFUSED),
    "privacy:rights-restrict": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:rights-restriction-lift": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    # The notice to post exists only while a lift waits for it: the world's access request has none (404).
    "privacy:rights-restriction-lift-letter": R(
        "request", who(_404=A_HANDLE, _403=A_VIEW - A_HANDLE), multi=MULTI_REFUSED_OR_MISSING
    ),
    "privacy:rights-restriction-lift-posted": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:rights-restriction-lift-cancel": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:rights-object": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:rights-object-weigh": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:rights-object-weigh-decide": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:rights-consents-withdraw": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:rights-portability": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:rights-notification": R("request", 405, post=REQUEST_READ, multi=MULTI_REFUSED),
    "privacy:rights-decide": R("request", 405, post=REQUEST_APPROVE, multi=MULTI_REFUSED),
    "privacy:rights-refuse": R("request", 405, post=REQUEST_APPROVE, multi=MULTI_REFUSED),
    "privacy:disclosures": R("reg", who(OK=A_VIEW), post=CHANGE_A),
    "privacy:customer-consents": R("customer", READ_A),
    "privacy:customer-consent-give": R("customer", 405, post=CHANGE_A),
    "privacy:customer-consent-withdraw": R("consent", 405, post=CHANGE_A),
    # The notice texts consents and objections are given after (issue 22): a register's owner's, and a main user's.
    "privacy:notices": R("reg", OWNER_SCREEN, post=405, main_everywhere=True),
    "privacy:notice-create": R("reg", OWNER_SCREEN, main_everywhere=True),
    # Imports belong to the register's owners and handlers; A's other roles are refused, other registers' batches
    # look missing. The world's batches wait for their mapping.
    "imports:batch-list": R("reg", IMPORT_A),
    "imports:batch-detail": R("batch", IMPORT_A, post=405),
    "imports:batch-mapping": R("batch", IMPORT_A),
    "imports:batch-preview": R("batch", IMPORT_A, post=405),
    "imports:batch-rejected-csv": R("batch", IMPORT_A, post=405),
    "imports:batch-start": R("batch", 405, post=IMPORT_A),
    "imports:batch-cancel": R("batch", 405, post=IMPORT_A),
    "imports:batch-progress": R("batch", IMPORT_A, post=405),
    "imports:batch-undo": R("batch", IMPORT_A),
    # Duplicates: finding, merging and undoing are the owner's and the handler's (roles.MERGE_CUSTOMERS); A's
    # other roles are refused, other registers' pairs and merges look missing.
    "duplicates:candidate-list": R("reg", MERGE_A, post=405),
    "duplicates:candidate-dismiss": R("candidate", 405, post=MERGE_A),
    "duplicates:customer-merge": R("reg", MERGE_A),
    "duplicates:contact-person-merge": R("customer", MERGE_A),
    "duplicates:merge-list": R("reg", MERGE_A, post=405),
    "duplicates:merge-detail": R("merge", MERGE_A),
    # The company register (PRH): adding companies from a search is an importer's work; a change the nightly
    # refresh found is decided by whoever may change data.
    "crm:company-search": R("reg", IMPORT_A),
    "crm:company-change-apply": R("company-change", 405, post=CHANGE_A),
    "crm:company-change-dismiss": R("company-change", 405, post=CHANGE_A),
    # Health and readiness (issue 23): for the load balancer, open to everybody and read-only (GET and HEAD).
    "ops:healthz": R("-", PUBLIC_PAGE, post=405, public=True, anon=(OK, 405)),
    "ops:readyz": R("-", PUBLIC_PAGE, post=405, public=True, anon=(OK, 405)),
    # The metrics answer only the scraper's bearer token (none in the matrix): 404 to every browser, signed in or
    # not, whatever the method, as an address that does not exist.
    "ops:metrics": R("-", who(_404=set(PERSONAS)), public=True, anon=404),
}

# The admin: one entry per registered model, naming what the main user's group may do there (view, add).
# Nobody else is staff: every other persona is sent to the admin's sign-in page.
ADMIN_MODELS: dict[str, frozenset[str]] = {
    # The archive's intakes (archive/admin.py): the main user configures mailboxes and reads what the
    # recording lists brought; a mailbox is switched off, never deleted.
    "archive.mailbox": frozenset({"view", "add", "change"}),
    "archive.recordinglist": frozenset({"view"}),
    "auth.group": frozenset({"view"}),
    "auth.user": frozenset({"view", "add", "change"}),
    "otp_static.staticdevice": frozenset(),
    "auditlog.logentry": frozenset(),
    "axes.accessattempt": frozenset(),
    "axes.accesslog": frozenset(),
    "axes.accessfailurelog": frozenset(),
    "django_celery_beat.periodictask": frozenset(),
    "django_celery_beat.clockedschedule": frozenset(),
    "django_celery_beat.crontabschedule": frozenset(),
    "django_celery_beat.solarschedule": frozenset(),
    "django_celery_beat.intervalschedule": frozenset(),
    "registers.organisation": frozenset({"view"}),
    "registers.register": frozenset({"view"}),
    "registers.membership": frozenset({"view"}),
    "registers.rolegroup": frozenset(),
    "registers.registerdescriptionversion": frozenset(),
    "registers.accessreview": frozenset({"view"}),
    "registers.confidentialitycommitment": frozenset({"view", "add"}),
    "registers.commitmentacceptance": frozenset({"view"}),
    "crm.customer": frozenset(),
    "crm.contactperson": frozenset(),
    "crm.interaction": frozenset(),
    "crm.invoice": frozenset(),
    "crm.orderingclient": frozenset(),
    "crm.contactcentremessage": frozenset(),
    "crm.callrecording": frozenset(),
    "privacy.datasubjectrequest": frozenset(),
    "privacy.responsepackage": frozenset(),
    "privacy.correspondence": frozenset(),
    "imports.importbatch": frozenset(),
    # The campaigns' bounce mailboxes, like the archive's: the main user configures them.
    "campaigns.bouncemailbox": frozenset({"view", "add", "change"}),
}
# The admin signs its visitors in itself (Django's admin_view), the anonymous ones included.
ADMIN_DEFAULTS = {"default": ADMIN_LOGIN, "any_object": True, "public": True, "anon": ADMIN_LOGIN}
ADMIN_SITE_PAGES: dict[str, Rule] = {
    "admin:index": R("-", who(OK={"main"}), **ADMIN_DEFAULTS),
    "admin:login": R("-", who(OK=set(PERSONAS)), public=True, anon=OK),
    # Signing out of the admin is a POST; a GET by somebody who is not staff is sent to the sign-in.
    "admin:logout": R("-", who(_405={"main"}), post=who(LOGIN={"main"}), **{**ADMIN_DEFAULTS, "default": 302}),
    "admin:password_change": R("-", who(OK={"main"}), **ADMIN_DEFAULTS),
    "admin:password_change_done": R("-", who(OK={"main"}), post=who(_405={"main"}), **ADMIN_DEFAULTS),
    "admin:autocomplete": R("-", who(_403={"main"}), post=who(_405={"main"}), **ADMIN_DEFAULTS),
    "admin:jsi18n": R("-", who(OK={"main"}), post=who(_405={"main"}), **ADMIN_DEFAULTS),
    "admin:view_on_site": R("admin-object", who(_404={"main"}), **ADMIN_DEFAULTS),
    "admin:app_list": R("admin-app", who(OK={"main"}), **ADMIN_DEFAULTS),
    # The admin's catch-all: an unknown admin address.
    "admin/(?P<url>.*)$": R("admin-missing", who(_404={"main"}), **ADMIN_DEFAULTS),
}

# Known leaks in files of other parts: (route, method, persona, object) -> reason. Each is a strict xfail.
LEAKS: dict[tuple[str, str, str, str], str] = {}


# The URL walk -----------------------------------------------------------------------------------------------


ROUTES = project_routes()
ADMIN_ACTIONS = ("changelist", "add", "history", "delete", "change")


def admin_model_rule(name: str | None, route: str) -> tuple[str, str] | None:
    """Return (model label, action) of a ModelAdmin URL (unnamed ones redirect to the change page)."""
    for model in admin.site._registry:
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        base = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        if not route.startswith(base):
            continue
        if name is None:
            return label, "redirect"
        action = name.removeprefix(f"admin:{model._meta.app_label}_{model._meta.model_name}_")
        return label, action
    return None


# The integration API and the GDPR API authenticate every call by its own key or bearer token, never by the
# browser's session: every persona, signed in or not, is 401 on every route, whatever the object (what each
# client may do is tests/api/test_api_matrix.py's class check). Only the OpenAPI document and its docs are open.
API_PREFIXES = ("api/v1/", "gdpr-api/")
API_RULE = R("api", 401, public=True, anon=401)
API_OPEN = {
    "api:schema": R("-", 200, post=405, public=True, anon=(200, 405)),
    "api:docs": R("-", 200, post=405, public=True, anon=(200, 405)),
}


def rule_for(name: str | None, route: str) -> Rule | None:
    if name in TABLE:
        return TABLE[name]
    if route.startswith(API_PREFIXES):
        return API_OPEN.get(name, API_RULE)
    if route_key(name, route) in ADMIN_SITE_PAGES:
        return ADMIN_SITE_PAGES[route_key(name, route)]
    found = admin_model_rule(name, route)
    if found is None or found[0] not in ADMIN_MODELS:
        return None
    label, action = found
    rights = ADMIN_MODELS[label]
    may_view = bool(rights & {"view", "change"})
    allowed_get, allowed_post = {
        "changelist": (may_view, may_view),
        "add": ("add" in rights, "add" in rights),
        "change": (may_view, "change" in rights),
        "delete": (False, False),
        # The bare object address only redirects to the change page, which checks.
        "redirect": (True, True),
    }.get(action, (may_view, may_view))
    family = "-" if action in {"changelist", "add"} else "admin-object"
    # Django's admin_view turns away everybody who is not staff before a ModelAdmin is asked, whatever
    # their roles (the site pages above are opened by every persona): a model's pages are opened by the
    # main user, an anonymous visitor and the strongest role without staff status.
    personas = ("anon", "main", "owner")
    # Django's history page looks the row up before it asks for the right: a missing row redirects.
    refused = {frozenset({403, 302}): {"main"}} if action == "history" else who(_403={"main"})
    get, post = (who(OK={"main"}) if allowed else refused for allowed in (allowed_get, allowed_post))
    return R(family, get, post=post, personas=personas, default=ADMIN_LOGIN, any_object=True)


def route_key(name: str | None, route: str) -> str:
    return name or route


MATRIX_ROUTES = [(route_key(n, r), r, n) for r, n, _v in ROUTES]


# The world ---------------------------------------------------------------------------------------------------

MARKER = {scope: f"Mx{scope}{uuid.uuid4().hex[:10]}" for scope in ("A", "B", "CX", "CY", "D")}
# The scopes whose personal data each persona may see.
SEES: dict[str, set[str]] = {
    "anon": set(),
    "main": set(),
    "owner": {"A"},
    "handler": {"A"},
    "staff": {"A"},
    "expert": {"A", "CX", "CY"},
    "manager": {"CX"},
    "norole": set(),
}


@dataclass
class World:
    users: dict = field(default_factory=dict)
    sessions: dict = field(default_factory=dict)
    objects: dict = field(default_factory=dict)  # scope -> {kind: value}
    # One client for every cell: a new one would load the middleware (and scan the static files) again.
    client: Client = field(
        default_factory=lambda: Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="10.9.8.7")
    )

    @staticmethod
    def columns(family: str) -> tuple[str, ...]:
        if family in {"-", "commitment", "reset", "admin-app", "admin-missing", "my-data"}:
            return ("-",)
        if family in {"identity-link", "document-request"}:
            return ("own", "other", "random")
        if family in {
            "token",
            "confirm-token",
            "download-token",
            "consent-token",
            "unsubscribe-token",
            "organisation",
            "user",
            "api-client",
        }:
            return ("own", "random")
        if family == "request":
            return ("own", "other", "multi", "random")
        if family == "reg":
            return ("own", "other", "random")
        if family == "cc":
            return ("own", "other", "random")
        if family in {"message", "attachment"}:
            return ("own", "client", "other", "cross", "random")
        return ("own", "other", "cross", "random")

    def url(self, route: str, family: str, column: str, admin_label: str = "") -> str:
        self.admin_label = admin_label
        if "(?P<app_label>" in route:
            return "/admin/registers/"
        if "(?P<url>" in route:
            return "/admin/no-such-page/"
        names = [m.group("name") for m in CONVERTER.finditer(route)]
        values = {name: self.value(family, name, column) for name in names}
        if column == "cross":
            # Everything from the persona's side except the deepest key, which comes from the other register.
            deepest = [n for n in names if n not in {"register", "slug", "fmt", "kind"}][-1]
            for name in names:
                values[name] = self.value(family, name, "own")
            values[deepest] = self.value(family, deepest, "other")
        return "/" + CONVERTER.sub(lambda m: values[m.group("name")], route)

    def value(self, family: str, name: str, column: str) -> str:
        cc = family in {"cc", "message", "attachment"}
        scope = {
            "own": "CX" if cc else "A",
            "other": "D" if cc else "B",
            "client": "CY",
            "multi": "AB",
            "-": "A",
            "random": "random",
            "cross": "CX" if cc else "A",
        }[column]
        if family == "api":
            # Refused before any object is looked up: A's register, and keys that exist nowhere.
            return str(self.objects["A"]["slug"]) if name in {"register", "slug"} else str(uuid.uuid4())
        if family == "my-data":
            # Answered before any object is looked up: without the person's session, the sign-in page.
            return "not-a-token" if name == "token" else str(uuid.uuid4())
        if name == "fmt":
            return "json"
        if name == "kind":
            return "organisation"
        if scope == "random":
            if name in {"register", "slug"}:
                return "no-such-register"
            if "token" in family:
                return "not-a-token"
            if family == "user":
                return "no-such-user"
            if family in {"admin-object", "identity-link"}:
                return "987654321"
            return str(uuid.uuid4())
        found = self.objects[scope]
        if family == "identity-link":
            return str(found["identity_link"])
        if family == "document-request":
            values = {"name": "take-up", "register": found["slug"], "kind": "decision"}
            return values.get(name) or str(found["document_request"])
        key = {
            "register": "slug",
            "slug": "slug",
            "person": "contact",
            "interaction": "interaction",
            "consent_code": "consent",
            "item": "review_item" if family == "review" else "random",
            "task": "random",
            "organisation": "organisation",
            "username": "username",
            "uidb64": "random",
            "token": {"token": "token", "reset": "random"}.get(family, family.replace("-", "_")),
            "object_id": "admin",
            "id": "admin",
            "content_type_id": "content_type",
            "pk": "admin",
            "change": "company_change",
            "attachment": "attachment",
            "followup": "followup",
            "tag": "tag",
        }.get(name)
        if name == "code":
            key = {
                "customer": "customer",
                "contact": "customer",
                "interaction": "customer",
                "consent": "customer",
                "membership": "membership",
                "review": "review",
                "hold": "hold",
                "message": "message",
                "attachment": "message",
                "request": "request",
                "commitment": "random",
                "company-change": "customer",
                "batch": "import_batch",
                "candidate": "duplicate_candidate",
                "merge": "merge",
                "campaign": "campaign",
                "tag": "tag",
                "customer-tag": "customer",
                "contact-tag": "customer",
                "savedview": "saved_view",
                "bulk": "bulk_action",
                "api-client": "api_client",
            }[family]
        if key == "random":
            return str(uuid.uuid4())
        if family == "admin-object" and name in {"object_id", "pk", "id"}:
            return str(found["admin"].get(self.admin_label, 1))
        return str(found[key])

    admin_label: str = ""


def _request(registers, *, name, email, handler, approver, records):
    request, _created = services.request_submit(
        organisation=registers[0].organisation,
        registers=list(registers),
        all_registers=False,
        data={
            "kind": DataSubjectRequest.Kind.ACCESS,
            "requester_name": name,
            "requester_email": email,
            "language": "en",
            "delivery": DataSubjectRequest.Delivery.ELECTRONIC,
        },
    )
    request = services.request_confirm_email(request=request)
    request = services.request_verify_identity(
        request=request, actor=handler, method=DataSubjectRequest.IdentityMethod.KNOWN_EMAIL
    )
    request = request_transition(request=request, to=DataSubjectRequest.State.IN_PROGRESS, actor=handler)
    for register in registers:
        items = [f"customer:{r.code}" for r in records if r.register_id == register.pk]
        services.subject_matches_confirm(request=request, actor=handler, register=register, records=items)
    request = services.request_prepare(request=request, actor=handler)
    return services.request_approve(request=request, actor=approver)


def _customer_scope(register, scope, *, owner, staff, approver):
    marker = MARKER[scope]
    customer = CustomerFactory(register=register, organisation_name=f"Oy {marker}", email=f"{marker.lower()}@firma.fi")
    contact = ContactPersonFactory(customer=customer, last_name=marker)
    interaction = InteractionFactory(customer=customer, subject=f"Meeting {marker}")
    record = consent.consent_give(
        actor=staff, customer=customer, purpose=ConsentRecord.Purpose.NEWSLETTER, channel=ConsentRecord.Channel.EMAIL
    )
    # A notice text of the register, added after the consent above, which the register gave without one. Not
    # personal data (a main user reads every register's), so it carries no marker.
    notices.consent_notice_create(
        actor=owner,
        register=register,
        kind=ConsentNotice.Kind.CONSENT,
        purpose=ConsentRecord.Purpose.RESEARCH,
        version="2026-1",
        valid_from=timezone.localdate(),
        text_fi="Suostun tutkimukseen.",
    )
    helper = UserFactory(username=f"mx_helper_{scope.lower()}")
    membership = grant(helper, register, Role.STAFF)
    review = access_review.access_review_open(register=register, actor=owner)
    item = review.items.first()
    for each in review.items.all():
        # An owner does not decide on their own access.
        decider = owner if each.user_id == approver.pk else approver
        access_review.access_review_item_decide(
            item=each, decision=AccessReviewItem.Decision.KEEP, reason="matrix", actor=decider
        )
    access_review.access_review_complete(review=review, actor=approver)
    hold = holds.legal_hold_place(
        actor=owner, register=register, reason="matrix", ends_on=timezone.localdate() + datetime.timedelta(days=30)
    )
    # A change the company register's refresh found, and an import batch waiting for its mapping.
    Customer.objects.filter(pk=customer.pk).update(company_status="active")
    company_change = CompanyChange.objects.create(customer=customer, field="city", new_value=f"Kaupunki {marker}")
    upload = SimpleUploadedFile("asiakkaat.csv", f"Nimi;Kunta\nOy {marker};Espoo\n".encode(), content_type="text/csv")
    batch = import_batch_create(actor=owner, register=register, file=upload, file_name="asiakkaat.csv")
    # A likely duplicate pair, and a merge of another pair that can still be undone.
    twins = sorted(
        [CustomerFactory(register=register, organisation_name=f"Kaksonen {marker} Oy") for _ in range(2)],
        key=lambda twin: twin.pk,
    )
    candidate = DuplicateCandidate.objects.create(register=register, first=twins[0], second=twins[1], score=0.9)
    merged = [CustomerFactory(register=register, organisation_name=f"Yhdistetty {marker}") for _ in range(2)]
    merge = customer_merge(actor=owner, survivor=merged[0], merged=merged[1:], reason="matrix")
    # The daily work (issue 18): a follow-up, a campaign with one recipient (its one-click link).
    followup = FollowUp.objects.create(customer=customer, assignee=owner, due_on=timezone.localdate(), note=marker)
    tag = Tag.objects.create(register=register, name=f"Tagi {marker}")
    CustomerTag.objects.create(tag=tag, customer=customer)
    # The owner's view, shared with the register: the others may use it, not change it.
    saved_view = SavedView.objects.create(register=register, owner=owner, name=f"Näkymä {marker}", shared=True)
    bulk_action = BulkAction.objects.create(
        register=register, actor=owner, kind=BulkAction.Kind.TAG_ADD, state=BulkAction.State.DONE
    )
    campaign = Campaign.objects.create(
        register=register, name=f"Kampanja {marker}", subject_fi="Uutiset", body_fi=marker, created_by=owner
    )
    recipient = CampaignRecipient.objects.create(
        campaign=campaign, customer=customer, email=customer.email, language="fi"
    )
    # A person who signed in with strong identification, and a record of theirs waiting for a handler.
    identity = SubjectIdentity.objects.create(
        issuer="https://tunnistus.example",
        subject=f"sub-{scope}",
        profile_id=uuid.uuid4(),
        first_name="Tunnistettu",
        last_name=marker,
        assurance=Assurance.SUBSTANTIAL,
        last_signed_in_at=timezone.now(),
    )
    twin = PersonCustomerFactory(register=register, first_name="Tunnistettu", last_name=marker)
    identity_link = IdentityLink.objects.create(
        identity=identity, customer=twin, register=register, matched_on=["name"]
    )
    # A request for documents asking for personal data from the register.
    document_request = openness_services.document_request_submit(
        organisation=register.organisation,
        registers=[register],
        data={"request_text": f"Asiakirjat {marker}", "requester_name": f"Toimittaja {marker}", "purpose": marker},
    )
    return {
        "slug": register.slug,
        "identity_link": identity_link.pk,
        "document_request": document_request.code,
        "customer": customer.code,
        "contact": contact.code,
        "interaction": interaction.code,
        "consent": record.code,
        "consent_token": consent.withdraw_token_make(record),
        "membership": membership.code,
        "review": review.code,
        "review_item": item.code,
        "hold": hold.code,
        "company_change": company_change.code,
        "import_batch": batch.code,
        "duplicate_candidate": candidate.code,
        "merge": merge.code,
        "followup": followup.code,
        "tag": tag.code,
        "saved_view": saved_view.code,
        "bulk_action": bulk_action.code,
        "campaign": campaign.code,
        "unsubscribe_token": unsubscribe_token(recipient),
    }


def _archived_mail(marker: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"{marker.lower()}@mx.fi"
    mail["To"] = "palvelu@mx.fi"
    mail["Subject"] = "Matriisi"
    mail["Message-ID"] = f"<{marker.lower()}@mx.fi>"
    mail.set_content(f"Hello {marker}")
    mail.add_attachment(f"Liite {marker}".encode(), maintype="text", subtype="plain", filename="liite.txt")
    return mail.as_bytes()


def _build_world(tmp_media) -> World:
    world = World()
    org = OrganisationFactory(name_fi="Matriisikaupunki")
    # Both customer registers allow direct marketing, so that their campaign routes answer by role, not 404.
    reg_a = RegisterFactory(slug="mx-a", organisation=org, direct_marketing=True)
    reg_b = RegisterFactory(slug="mx-b", organisation=org, direct_marketing=True)
    reg_c = ContactCentreRegisterFactory(slug="mx-c", organisation=org)
    reg_d = ContactCentreRegisterFactory(slug="mx-d", organisation=org)

    main = UserFactory(username="mx_main", is_staff=True)
    main.groups.add(main_users_group_ensure())
    users = {"main": main, "norole": UserFactory(username="mx_norole")}
    for persona, register, role in [
        ("owner", reg_a, Role.OWNER),
        ("handler", reg_a, Role.HANDLER),
        ("staff", reg_a, Role.STAFF),
        ("expert", reg_a, Role.CONTACT_CENTRE_EXPERT),
        ("manager", reg_c, Role.CLIENT_MANAGER),
    ]:
        users[persona] = UserFactory(username=f"mx_{persona}")
        grant(users[persona], register, role)
    grant(users["expert"], reg_c, Role.CONTACT_CENTRE_EXPERT)
    owner_b = UserFactory(username="mx_owner_b")
    grant(owner_b, reg_b, Role.OWNER)
    handler_b = UserFactory(username="mx_handler_b")
    grant(handler_b, reg_b, Role.HANDLER)
    # A multi-register request is moved and answered by people with the right in both registers.
    handler_ab = UserFactory(username="mx_handler_ab")
    grant(handler_ab, reg_a, Role.HANDLER)
    grant(handler_ab, reg_b, Role.HANDLER)
    approver = UserFactory(username="mx_approver")
    grant(approver, reg_a, Role.OWNER)
    grant(approver, reg_b, Role.OWNER)
    world.users = users

    world.objects["A"] = _customer_scope(reg_a, "A", owner=users["owner"], staff=users["staff"], approver=approver)
    world.objects["B"] = _customer_scope(reg_b, "B", owner=owner_b, staff=handler_b, approver=approver)

    # The same person in A and in B; B's record carries B's marker, which A's people must never see.
    subject = "Sanna Monirek"
    person_a = PersonCustomerFactory(register=reg_a, first_name="Sanna", last_name="Monirek", email="sanna@mx.fi")
    person_b = PersonCustomerFactory(
        register=reg_b,
        first_name="Sanna",
        last_name="Monirek",
        email=f"{MARKER['B'].lower()}@mx.fi",
        occupation=MARKER["B"],
    )
    InteractionFactory(customer=person_b, subject=f"Grant {MARKER['B']}")
    one_a = _request(
        [reg_a],
        name=subject,
        email="sanna@mx.fi",
        handler=users["handler"],
        approver=users["owner"],
        records=[person_a],
    )
    one_b = _request(
        [reg_b],
        name="Bertta Muu",
        email=f"b.{MARKER['B'].lower()}@mx.fi",
        handler=handler_b,
        approver=owner_b,
        records=[person_b],
    )
    multi = _request(
        [reg_a, reg_b],
        name=subject,
        email="sanna@mx.fi",
        handler=handler_ab,
        approver=approver,
        records=[person_a, person_b],
    )
    world.objects["A"].update(
        request=one_a.code,
        token=tokens.status_token_make(one_a),
        confirm_token=tokens.confirm_token_make(one_a),
        download_token=tokens.download_token_make(one_a.packages.get()),
        organisation=org.code,
        username=users["staff"].username,
    )
    world.objects["B"].update(request=one_b.code)
    world.objects["AB"] = {"request": multi.code}
    client, _key = api_client_create(
        actor=users["main"],
        name="Tapahtumakalenteri",
        owner=users["main"],
        scopes={reg_a: Role.API_READ},
        expires_on=timezone.localdate() + datetime.timedelta(days=30),
    )
    world.objects["A"]["api_client"] = client.code

    client_x = OrderingClientFactory(register=reg_c, department="Toimiala X")
    client_y = OrderingClientFactory(register=reg_c, department="Toimiala Y")
    client_z = OrderingClientFactory(register=reg_d, department="Toimiala Z")
    client_x.managers.add(users["manager"])
    for scope, ordering_client in [("CX", client_x), ("CY", client_y), ("D", client_z)]:
        # Archived through the one archiving service: a sealed original and an attachment, both carrying the
        # marker, so that a download or the original shown to the wrong persona counts as a leak.
        message = message_archive(
            raw=_archived_mail(MARKER[scope]),
            ordering_client=ordering_client,
            direction=ContactCentreMessage.Direction.INCOMING,
            intake=ContactCentreMessage.Intake.UPLOAD,
        ).message
        CallRecordingFactory(ordering_client=ordering_client, caller_number_fragment=MARKER[scope][-4:])
        world.objects[scope] = {
            "slug": ordering_client.register.slug,
            "message": message.code,
            "attachment": message.attachments.get().code,
        }

    # The admin's object pages open a row of each model (the first stored one), or an unknown key.
    admin_rows = {}
    for model in admin.site._registry:
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        admin_rows[label] = model._default_manager.order_by("pk").values_list("pk", flat=True).first() or 1
    world.objects["A"]["admin"] = admin_rows
    world.objects["A"]["content_type"] = "1"

    for persona, user in users.items():
        client = TwoFactorClient()
        client.force_login(user)
        world.sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("matrix-media")
    # Built once for the module and never committed: the outer transaction is rolled back at the end.
    with (
        override_settings(
            MEDIA_ROOT=media,
            PRIVACY_RATE_LIMITS={"ip": (100000, 3600), "email": (100000, 3600)},
            # Configured but never called: no route of the matrix sends a search.
            PRH_API_URL="http://127.0.0.1:9/v3",
        ),
        django_db_blocker.unblock(),
        translation.override("en"),
        transaction.atomic(),
    ):
        built = _build_world(media)
        yield built
        transaction.set_rollback(True)


# Change detection: a refused request must leave every table as it was.
FINGERPRINTED_APPS = frozenset(
    {
        "registers",
        "crm",
        "followups",
        "segments",
        "privacy",
        "duplicates",
        "imports",
        "archive",
        "campaigns",
        "selfservice",
        "openness",
        "auditlog",
        "auth",
        "guardian",
    }
)


CHAIN_OF_THE_TRAIL = frozenset({"registers.auditchainlink", "registers.auditchainhead"})


def _fingerprinted_models():
    for model in apps.get_models():
        if model._meta.app_label not in FINGERPRINTED_APPS or model._meta.proxy or not model._meta.managed:
            continue
        # The audit chain links every audit row, django-axes' sign-in and sign-out rows (not fingerprinted) too.
        if model._meta.label_lower not in CHAIN_OF_THE_TRAIL:
            yield model


def _fingerprint_sql():
    if connection.vendor == "postgresql":
        # PostgreSQL counts the rows each statement of the open transaction inserted, updated or deleted, per table:
        # one small read instead of counting every table, which was half of the matrix's time.
        tables = sorted({model._meta.db_table for model in _fingerprinted_models()})
        return (
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables "
            "WHERE relname = ANY(%s) ORDER BY relname",
            [tables],
        )
    # Table and column names come from the models, quoted by the backend; nothing here comes from input.
    parts = []
    for model in _fingerprinted_models():
        table = connection.ops.quote_name(model._meta.db_table)
        pk = connection.ops.quote_name(model._meta.pk.column)
        parts.append(f"(SELECT COUNT(*) FROM {table})")  # noqa: S608
        if isinstance(model._meta.pk, models.AutoField | models.BigAutoField):
            parts.append(f"(SELECT MAX({pk}) FROM {table})")  # noqa: S608
        names = {f.column for f in model._meta.concrete_fields}
        for column in ("updated_at", "version", "state", "status", "ended_at", "withdrawn_at", "released_at"):
            if column in names:
                parts.append(f"(SELECT MAX({connection.ops.quote_name(column)}) FROM {table})")  # noqa: S608
    return "SELECT " + ", ".join(parts), []


def fingerprint(sql) -> tuple:
    statement, params = sql
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return tuple(cursor.fetchall())


# Running one cell ----------------------------------------------------------------------------------------------


def expected(rule: Rule, method: str, persona: str, column: str):
    spec = rule.get if method == "GET" else (rule.get if rule.post == "same" else rule.post)
    if persona == "anon":
        if not rule.public:
            return LOGIN
        anon = rule.anon
        if isinstance(anon, tuple):
            anon = anon[0] if method == "GET" else anon[1]
        if column == "random" and anon not in REFUSALS:
            return 404
        return anon
    if not isinstance(spec, dict):
        return spec
    own = next((outcome for outcome, personas in spec.items() if persona in personas), rule.default)
    if column == "multi" and rule.multi is not None:
        return next((outcome for outcome, personas in rule.multi.items() if persona in personas), rule.default)
    if column in {"own", "-", "multi"} or rule.any_object or (own == 403 and rule.refuse_first):
        return own
    if column == "cross" and own == 403:
        # A read-only role may be refused at the parent object, before the foreign key is looked at.
        return frozenset({403, 404})
    if column == "client":
        return own if persona in rule.client_ok else 404
    if column == "other" and persona == "main" and rule.main_everywhere:
        return own
    if rule.public and column == "other":
        return own
    return 404


def outcome_of(response) -> object:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith("/admin/login/"):
            return ADMIN_LOGIN
        if location.startswith(resolve_url(settings.LOGIN_URL)):
            return LOGIN
    return response.status_code


def matches(want, got) -> bool:
    if isinstance(want, frozenset):
        return any(matches(each, got) for each in want)
    if want == OK:
        return got in OK_STATUSES
    return want == got


def body_of(response) -> str:
    content = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    return content.decode("utf-8", "replace")


def run_cell(world, baseline, key, rule, method, persona, column) -> str | None:
    """Return what is wrong with one cell, or None."""
    route = route_for[key]
    name = next(n for k, _r, n in MATRIX_ROUTES if k == key)
    found = admin_model_rule(name, route) if route.startswith("admin/") else None
    url = world.url(route, rule.family, column, admin_label=found[0] if found else "")
    client = world.client
    client.cookies.clear()
    if persona != "anon":
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[persona]
    want = expected(rule, method, persona, column)
    problems = []
    sql, before = baseline
    with transaction.atomic():
        if connection.vendor == "postgresql":
            before = fingerprint(sql)  # the counts run on through the test's transaction
        response = client.get(url) if method == "GET" else client.post(url, {})
        after = fingerprint(sql)
        transaction.set_rollback(True)
    got = outcome_of(response)
    if not matches(want, got):
        problems.append(f"expected {want}, got {got}")
    if (got in REFUSALS or got == 500) and before != after:
        problems.append("a refused request changed stored data")
    # E-mail addresses carry the marker in lower case.
    text = body_of(response).lower()
    leaked = [scope for scope, marker in MARKER.items() if scope not in SEES[persona] and marker.lower() in text]
    if leaked:
        problems.append(f"shows personal data of {'/'.join(leaked)}")
    if problems:
        return f"{method} {url} as {persona} [{column}]: {'; '.join(problems)}"
    return None


route_for = {key: route for key, route, _name in MATRIX_ROUTES}


def cells(key: str):
    rule = rule_for(next(n for k, _r, n in MATRIX_ROUTES if k == key), route_for[key])
    columns = World.columns(rule.family)
    for method in METHODS:
        spec = rule.get if method == "GET" else (rule.get if rule.post == "same" else rule.post)
        for persona in rule.personas:
            if method == "POST" and rule.any_object and not rule.public and persona != "main":
                # The admin's sign-in redirect does not look at the method.
                continue
            # A method the view refuses outright (405), the sign-in redirect and the admin's answer do not
            # depend on the object.
            if not isinstance(spec, dict) or rule.any_object or (persona == "anon" and not rule.public):
                yield rule, method, persona, columns[0]
                continue
            for column in columns:
                # A persona refused on its own object is refused at the register: probing it with
                # cross-register and random keys would only repeat that answer.
                if column in {"cross", "random"} and expected(rule, method, persona, columns[0]) == 404:
                    continue
                yield rule, method, persona, column


# The tests ---------------------------------------------------------------------------------------------------


def test_every_route_has_an_entry():
    missing = [key for key, route, name in MATRIX_ROUTES if rule_for(name, route) is None]
    assert missing == [], "add these URLs to TABLE (or ADMIN_MODELS) in tests/test_permission_matrix.py"


def test_the_table_names_no_route_that_is_gone():
    names = {route_key(name, route) for route, name, _v in ROUTES}
    models = {f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry}
    stale = (set(TABLE) | set(ADMIN_SITE_PAGES) | set(API_OPEN)) - names
    assert stale == set()
    assert set(ADMIN_MODELS) - models == set()


def test_only_the_public_routes_skip_the_sign_in():
    for key, route, name in MATRIX_ROUTES:
        view = next(v for r, n, v in ROUTES if r == route and n == name)
        rule = rule_for(name, route)
        if not getattr(view, "login_required", True) and not route.startswith("admin/"):
            assert rule.public, f"{key} is open without signing in but is not marked public in TABLE"


@pytest.mark.django_db
@pytest.mark.parametrize("key", [k for k, _r, _n in MATRIX_ROUTES])
def test_permission_matrix(world, key):
    sql = _fingerprint_sql()
    # Every cell is rolled back: the stored data before each one is the same.
    baseline = (sql, fingerprint(sql))
    failures = []
    for rule, method, persona, column in cells(key):
        if (key, method, persona, column) in LEAKS:
            continue
        problem = run_cell(world, baseline, key, rule, method, persona, column)
        if problem:
            failures.append(problem)
    assert not failures, "\n".join(failures)


if LEAKS:
    # Collected only while a leak is known, so that an empty table leaves no skipped test behind.
    @pytest.mark.django_db
    @pytest.mark.parametrize(
        "cell",
        [pytest.param(cell, marks=pytest.mark.xfail(strict=True, reason=reason)) for cell, reason in LEAKS.items()],
    )
    def test_known_leak(world, cell):
        key, method, persona, column = cell
        rule = rule_for(next(n for k, _r, n in MATRIX_ROUTES if k == key), route_for[key])
        sql = _fingerprint_sql()
        problem = run_cell(world, (sql, fingerprint(sql)), key, rule, method, persona, column)
        assert problem is None, problem


@pytest.mark.django_db
def test_the_markers_show_where_they_may(world):
    """The leak check is not vacuous: the same pages show the marker to those who may see it."""

    def page(persona, url):
        world.client.cookies.clear()
        world.client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[persona]
        response = world.client.get(url)
        assert response.status_code == 200, url
        return body_of(response).lower()

    own, client_y = world.objects["A"], world.objects["CY"]
    customer_page = page("staff", f"/crm/{own['slug']}/customers/{own['customer']}/")
    assert MARKER["A"].lower() in customer_page
    assert MARKER["CY"].lower() in page("expert", f"/crm/{client_y['slug']}/messages/{client_y['message']}/")
    archive = page("manager", f"/crm/{client_y['slug']}/messages/")
    assert MARKER["CX"].lower() in archive
    assert MARKER["CY"].lower() not in archive
    # The export, an attachment and the original carry the marker too: their leak checks are not vacuous.
    export = f"/crm/{client_y['slug']}/messages.csv"
    assert MARKER["CY"].lower() in page("expert", export)
    assert MARKER["CX"].lower() in page("manager", export)
    assert MARKER["CY"].lower() not in page("manager", export)
    attachment = f"/crm/{client_y['slug']}/messages/{client_y['message']}/attachments/{client_y['attachment']}/"
    assert MARKER["CY"].lower() in page("expert", attachment)
    world.client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions["expert"]
    original = world.client.post(f"/crm/{client_y['slug']}/messages/{client_y['message']}/original/", {})
    assert MARKER["CY"].lower() in body_of(original).lower()


@pytest.mark.django_db
def test_a_user_without_any_role_sees_no_register(client, register_a):
    client.force_login(UserFactory())
    response = client.get("/")
    assert response.status_code == 200
    assert register_a.name_fi not in response.content.decode()
