"""B-tree indexes for the exact e-mail and phone lookups of the data-subject search.

The search of a data-subject request (privacy.requests.selectors.subject_candidates)
finds contact persons by `UPPER(email) = UPPER(%s)` and `phone IN (...)`. The
trigram indexes of 0005 serve substring search; for equality they must
recheck every row sharing the value's trigrams, and work addresses share most
of theirs (the domain): 60 ms at 130,000 contact persons, against a fraction
of a millisecond through a b-tree. Plain b-trees, so they exist on SQLite too.
"""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0006_audit_entry_register"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="contactperson",
            index=models.Index(django.db.models.functions.text.Upper("email"), name="contact_email_upper"),
        ),
        migrations.AddIndex(
            model_name="contactperson",
            index=models.Index(fields=["phone"], name="contact_phone"),
        ),
    ]
