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
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


def search_words(text: str) -> list[str]:
    """Return the words of a search, as SQLite's contains search uses them."""
    return _WORD.findall(text)


def message_search(queryset: QuerySet, text: str) -> QuerySet:
    """Return the messages of `queryset` whose subject or body matches the search `text`."""
    text = (text or "").strip()
    if not text:
        return queryset
    if connection.vendor == "postgresql":
        table = queryset.model._meta.db_table
        # Constant SQL (the table name comes from the model); the search text goes only as parameters.
        sql = f'"{table}"."{DOCUMENT_COLUMN}" @@ {QUERY}'
        condition = RawSQL(sql, (text, text), output_field=BooleanField())  # noqa: S611
        return queryset.filter(condition)
    words = search_words(text)
    if not words:
        return queryset.none()
    for word in words:
        queryset = queryset.filter(Q(subject__icontains=word) | Q(body__icontains=word))
    return queryset
