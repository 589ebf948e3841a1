"""Full-text search of the contact-centre archive: subject and body, with Finnish and Swedish stems.

On PostgreSQL the messages table has a stored generated column, `search_document`, computed from `DOCUMENT`
(crm/migrations/0016_archive_intake.py, outside Django's model state; a test compares the two expressions),
with the GIN index `message_fulltext` on it. A search is
`search_document @@ (websearch_to_tsquery('finnish', q) || websearch_to_tsquery('swedish', q))`: "laskun"
finds "lasku" and "fakturan" finds "faktura". The stored column lets the planner choose by the column's
statistics: the GIN index for a rare word, the newest-first index `message_newest` for a common one (walk the
newest messages, check each stored document, stop when the page is full), and neither parses text again.

SQLite (the quick start and most tests) has no stemming: there every word must occur in the subject or body,
case-insensitively.

What is searched is the masked text (identity codes were masked when the message was archived) and the search
form refuses an identity code, so no code can be searched for.
"""

import re

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

DOCUMENT = (
    "(to_tsvector('finnish'::regconfig, COALESCE(subject, '') || ' ' || COALESCE(body, ''))"
    " || to_tsvector('swedish'::regconfig, COALESCE(subject, '') || ' ' || COALESCE(body, '')))"
)
DOCUMENT_COLUMN = "search_document"
QUERY = "(websearch_to_tsquery('finnish'::regconfig, %s) || websearch_to_tsquery('swedish'::regconfig, %s))"
# The archive list's count cap (crm.views.COUNT_CAP): a search with at most this many matches is listed by key.
FEW_MATCHES = 1000
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


def search_words(text: str) -> list[str]:
    """Return the words of a search, as SQLite's contains search uses them."""
    return _WORD.findall(text)


def matching(queryset: QuerySet, text: str) -> QuerySet:
    """Return `queryset` narrowed to the PostgreSQL full-text matches of `text`, as one condition."""
    table = queryset.model._meta.db_table
    # Constant SQL (the table name comes from the model); the search text goes only as parameters.
    sql = f'"{table}"."{DOCUMENT_COLUMN}" @@ {QUERY}'
    condition = RawSQL(sql, (text, text), output_field=BooleanField())  # noqa: S611  # nosec B611 - text as parameters
    return queryset.filter(condition)


def message_search(queryset: QuerySet, text: str) -> QuerySet:
    """Return the messages of `queryset` whose subject or body matches the search `text`.

    On PostgreSQL the matches are first looked up without an order, at most FEW_MATCHES + 1 of them, which
    the GIN index answers at once however rare the word. So few are listed by key, and sorting them by time
    costs nothing. More than that, and the word is common: walking the newest-first index and checking each
    stored document fills a page within a few hundred rows. Either plan alone fails the other case by seconds
    (over 1,000,000 messages: a word in 1 message in 10,000 walks half the index; a word in every third
    message sorts 300,000 rows), and the planner's estimate of a rare word is too coarse to choose.
    """
    text = (text or "").strip()
    if not text:
        return queryset
    if connection.vendor == "postgresql":
        matches = matching(queryset, text)
        few = list(matches.order_by().values_list("pk", flat=True)[: FEW_MATCHES + 1])
        if len(few) <= FEW_MATCHES:
            return queryset.filter(pk__in=few)
        return matches
    words = search_words(text)
    if not words:
        return queryset.none()
    for word in words:
        queryset = queryset.filter(Q(subject__icontains=word) | Q(body__icontains=word))
    return queryset
