"""Full-text search of the contact-centre archive: subject and body, with Finnish and Swedish stems.

On PostgreSQL a search is `DOCUMENT @@ (websearch_to_tsquery('finnish', q) || websearch_to_tsquery('swedish', q))`,
where `DOCUMENT` is, character for character, the expression of the GIN index `message_fulltext`
(crm/migrations/0016_archive_intake.py; a test compares the two), so the planner reads the index: "laskun"
finds "lasku" and "fakturan" finds "faktura". The columns are qualified with the table's name so that a join
(the ordering client, the attachment count) can never make them ambiguous; PostgreSQL matches an index
expression on the columns it names, not on how the query spells them.

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
QUERY = "(websearch_to_tsquery('finnish'::regconfig, %s) || websearch_to_tsquery('swedish'::regconfig, %s))"
SEARCHED_COLUMNS = ("subject", "body")
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


def qualified_document(table: str) -> str:
    """Return `DOCUMENT` with its columns named as `"table"."column"`."""
    document = DOCUMENT
    for column in SEARCHED_COLUMNS:
        document = document.replace(f"COALESCE({column},", f'COALESCE("{table}"."{column}",')
    return document


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
        sql = f"{qualified_document(table)} @@ {QUERY}"
        condition = RawSQL(sql, (text, text), output_field=BooleanField())  # noqa: S611
        return queryset.filter(condition)
    words = search_words(text)
    if not words:
        return queryset.none()
    for word in words:
        queryset = queryset.filter(Q(subject__icontains=word) | Q(body__icontains=word))
    return queryset
