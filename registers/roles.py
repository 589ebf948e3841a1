"""Which guardian permissions on a `Register` each role carries.

The one place that maps the roles of DOMAIN.md to permission codenames; the
selectors ask for codenames, never for roles.
"""

from .models import Register, Role

VIEW_DATA = "view_register_data"
CHANGE_DATA = "change_register_data"
MANAGE_ACCESS = "manage_register_access"
REVIEW_ACCESS = "review_register_access"
HANDLE_REQUESTS = "handle_register_requests"
APPROVE_REQUESTS = "approve_register_requests"

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset({VIEW_DATA, CHANGE_DATA, MANAGE_ACCESS, REVIEW_ACCESS, HANDLE_REQUESTS, APPROVE_REQUESTS}),
    Role.HANDLER: frozenset({VIEW_DATA, CHANGE_DATA, MANAGE_ACCESS, HANDLE_REQUESTS}),
    Role.STAFF: frozenset({VIEW_DATA, CHANGE_DATA}),
    # The archive is read-only for everybody: messages are kept exactly as sent.
    Role.CONTACT_CENTRE_EXPERT: frozenset({VIEW_DATA}),
    Role.CLIENT_MANAGER: frozenset({VIEW_DATA}),
    Role.API_READ: frozenset({VIEW_DATA}),
    Role.API_WRITE: frozenset({VIEW_DATA, CHANGE_DATA}),
    Role.API_KEEPER: frozenset({VIEW_DATA, CHANGE_DATA}),
}

# The roles of integration API clients: granted only to a client's machine user (registers.services
# .integration_scope_grant), never to a person, and no person's role is ever granted to a client.
MACHINE_ROLES: frozenset[str] = frozenset({Role.API_READ, Role.API_WRITE, Role.API_KEEPER})

# Roles a holder of MANAGE_ACCESS may hand out. An owner may grant every role;
# a handler grants the roles that were approved for staff work, never owner or
# handler (which would let a handler widen their own rights).
GRANTABLE_ROLES: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(Role.values),
    Role.HANDLER: frozenset({Role.STAFF, Role.CONTACT_CENTRE_EXPERT, Role.CLIENT_MANAGER}),
}

# Roles that fit each kind of register. A customer register is kept by staff
# users who add and change customers. The contact-centre archive (seed 004)
# keeps messages exactly as sent and only the centre's experts and the ordering
# clients' managers read it; neither role means anything in a customer register.
ROLES_BY_KIND: dict[str, frozenset[str]] = {
    Register.Kind.CUSTOMER: frozenset({Role.OWNER, Role.HANDLER, Role.STAFF}),
    Register.Kind.CONTACT_CENTRE: frozenset(
        {Role.OWNER, Role.HANDLER, Role.CONTACT_CENTRE_EXPERT, Role.CLIENT_MANAGER}
    ),
}


def roles_fitting(register: Register) -> frozenset[str]:
    """Return the roles that make sense in this kind of register."""
    return ROLES_BY_KIND.get(register.kind, frozenset())


# Rights inside a register's data that narrow CHANGE_DATA by role. They are not guardian codenames: a
# Register permission would need a model change and a migration granting it to every existing role group,
# and the rule reads as well from the roles the user holds today (crm.selectors.user_holds_right checks it
# after guardian's CHANGE_DATA check). Seeds 000/003 and DOMAIN.md make the owner answerable for the data;
# the permanent erasure step of a request is already the owner's (privacy: APPROVE_REQUESTS).
DELETE_CUSTOMERS = "delete_customers"  # delete a customer with everything under it, for good
CHANGE_OTHERS_ENTRIES = "change_others_entries"  # correct or remove a timeline entry a colleague recorded
# Bring customers in from a file and undo such a batch: thousands of records at once are the register's
# keepers' decision (issue 15), not a staff user's.
IMPORT_CUSTOMERS = "import_customers"
# Merge duplicate customers or contact persons, and undo a merge: it rewrites whose history is whose (issue 16).
MERGE_CUSTOMERS = "merge_customers"

# Put historical mail into the contact-centre archive (an .eml or .mbox upload): the centre's experts and the
# register's keepers, never an ordering client's manager, who reads only (issue 17).
ADD_ARCHIVE_MAIL = "add_archive_mail"
# Open an archived message as it was sent, identity codes unmasked: the contact-centre expert only, each time
# logged (docs/contact-centre-archive.md).
READ_ARCHIVE_ORIGINALS = "read_archive_originals"

# Read (never handle, decide, import or merge) the register's data-subject requests, import batches and duplicate
# candidates: an integration client with the keeper's scope (issue 19), which shows them in another system. The
# owner and handler read them through the rights to handle, import and merge.
READ_KEEPER_RECORDS = "read_keeper_records"

# Create, rename and delete a register's tags (issue 18): the register's vocabulary is its keepers'; staff apply tags.
MANAGE_TAGS = "manage_tags"
# Send campaign e-mail to a segment, in a register whose description allows direct marketing (issue 18).
SEND_CAMPAIGNS = "send_campaigns"

ROLE_DATA_RIGHTS: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(
        {
            DELETE_CUSTOMERS,
            CHANGE_OTHERS_ENTRIES,
            IMPORT_CUSTOMERS,
            MERGE_CUSTOMERS,
            ADD_ARCHIVE_MAIL,
            MANAGE_TAGS,
            SEND_CAMPAIGNS,
        }
    ),
    Role.HANDLER: frozenset({IMPORT_CUSTOMERS, MERGE_CUSTOMERS, ADD_ARCHIVE_MAIL, MANAGE_TAGS, SEND_CAMPAIGNS}),
    Role.CONTACT_CENTRE_EXPERT: frozenset({ADD_ARCHIVE_MAIL, READ_ARCHIVE_ORIGINALS}),
    Role.API_KEEPER: frozenset({READ_KEEPER_RECORDS}),
}

MAIN_USERS_GROUP = "main users"
# The machine users of integration API clients (api.models.APIClient): one per client, never a person.
INTEGRATION_CLIENTS_GROUP = "integration clients"
