"""Organisation names and register description texts in Finnish, Swedish and English.

Renames keep every existing value (in the Finnish field); the Swedish and English fields start empty,
and the description shows the Finnish text with an "only in Finnish" note until they are filled in.
"""

from django.db import migrations, models

import registers.fields


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0008_redact_access_log_tokens"),
    ]

    operations = [
        # The single name becomes the Finnish one: an existing row keeps its name, in the Finnish field.
        migrations.RenameField(model_name="organisation", old_name="name", new_name="name_fi"),
        migrations.AlterField(
            model_name="organisation",
            name="name_fi",
            field=registers.fields.PersonalCharField(max_length=200, unique=True, verbose_name="name in Finnish"),
        ),
        migrations.AddField(
            model_name="organisation",
            name="name_sv",
            field=registers.fields.PersonalCharField(
                blank=True, default="", max_length=200, verbose_name="name in Swedish"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="organisation",
            name="name_en",
            field=registers.fields.PersonalCharField(
                blank=True, default="", max_length=200, verbose_name="name in English"
            ),
            preserve_default=False,
        ),
        # Existing controllers are taken for public authorities (cities and their boards): the stricter rule,
        # which asks them for a data protection officer before their next publication.
        migrations.AddField(
            model_name="organisation",
            name="public_authority",
            field=models.BooleanField(
                default=True,
                help_text="A public authority must name a data protection officer (GDPR art. 37(1)(a)).",
                verbose_name="public authority or body",
            ),
        ),
        migrations.AlterModelOptions(
            name="organisation",
            options={"ordering": ["name_fi"], "verbose_name": "organisation", "verbose_name_plural": "organisations"},
        ),
        # Each description text: the old value stays, as the Finnish text; Swedish and English start empty.
        migrations.RenameField(model_name="register", old_name="owner", new_name="owner_fi"),
        migrations.AlterField(
            model_name="register",
            name="owner_fi",
            field=registers.fields.PersonalTextField(
                blank=True,
                help_text="Name, title and contact details.",
                max_length=10000,
                verbose_name="register owner (Finnish)",
            ),
        ),
        migrations.AddField(
            model_name="register",
            name="owner_sv",
            field=registers.fields.PersonalTextField(
                blank=True,
                default="",
                help_text="Name, title and contact details.",
                max_length=10000,
                verbose_name="register owner (Swedish)",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="register",
            name="owner_en",
            field=registers.fields.PersonalTextField(
                blank=True,
                default="",
                help_text="Name, title and contact details.",
                max_length=10000,
                verbose_name="register owner (English)",
            ),
            preserve_default=False,
        ),
        migrations.RenameField(model_name="register", old_name="handlers", new_name="handlers_fi"),
        migrations.AlterField(
            model_name="register",
            name="handlers_fi",
            field=registers.fields.PersonalTextField(
                blank=True, max_length=10000, verbose_name="register handlers (Finnish)"
            ),
        ),
        migrations.AddField(
            model_name="register",
            name="handlers_sv",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="register handlers (Swedish)"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="register",
            name="handlers_en",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="register handlers (English)"
            ),
            preserve_default=False,
        ),
        migrations.RenameField(model_name="register", old_name="contact_person", new_name="contact_person_fi"),
        migrations.AlterField(
            model_name="register",
            name="contact_person_fi",
            field=registers.fields.PersonalTextField(
                blank=True, max_length=10000, verbose_name="contact person in register matters (Finnish)"
            ),
        ),
        migrations.AddField(
            model_name="register",
            name="contact_person_sv",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="contact person in register matters (Swedish)"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="register",
            name="contact_person_en",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="contact person in register matters (English)"
            ),
            preserve_default=False,
        ),
        migrations.RenameField(model_name="register", old_name="dpo_contact", new_name="dpo_contact_fi"),
        migrations.AlterField(
            model_name="register",
            name="dpo_contact_fi",
            field=registers.fields.PersonalTextField(
                blank=True,
                help_text="Name or title and contact details.",
                max_length=10000,
                verbose_name="data protection officer (Finnish)",
            ),
        ),
        migrations.AddField(
            model_name="register",
            name="dpo_contact_sv",
            field=registers.fields.PersonalTextField(
                blank=True,
                default="",
                help_text="Name or title and contact details.",
                max_length=10000,
                verbose_name="data protection officer (Swedish)",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="register",
            name="dpo_contact_en",
            field=registers.fields.PersonalTextField(
                blank=True,
                default="",
                help_text="Name or title and contact details.",
                max_length=10000,
                verbose_name="data protection officer (English)",
            ),
            preserve_default=False,
        ),
        migrations.RenameField(model_name="register", old_name="processors", new_name="processors_fi"),
        migrations.AlterField(
            model_name="register",
            name="processors_fi",
            field=registers.fields.PersonalTextField(
                blank=True, max_length=10000, verbose_name="processors and outsourced services (Finnish)"
            ),
        ),
        migrations.AddField(
            model_name="register",
            name="processors_sv",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="processors and outsourced services (Swedish)"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="register",
            name="processors_en",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="processors and outsourced services (English)"
            ),
            preserve_default=False,
        ),
        migrations.RenameField(model_name="register", old_name="purposes", new_name="purposes_fi"),
        migrations.AlterField(
            model_name="register",
            name="purposes_fi",
            field=registers.fields.PersonalTextField(
                blank=True, max_length=10000, verbose_name="purposes of processing (Finnish)"
            ),
        ),
        migrations.AddField(
            model_name="register",
            name="purposes_sv",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="purposes of processing (Swedish)"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="register",
            name="purposes_en",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="purposes of processing (English)"
            ),
            preserve_default=False,
        ),
        migrations.RenameField(model_name="register", old_name="national_basis", new_name="national_basis_fi"),
        migrations.AlterField(
            model_name="register",
            name="national_basis_fi",
            field=registers.fields.PersonalTextField(
                blank=True, max_length=10000, verbose_name="national legal basis (Finnish)"
            ),
        ),
        migrations.AddField(
            model_name="register",
            name="national_basis_sv",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="national legal basis (Swedish)"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="register",
            name="national_basis_en",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="national legal basis (English)"
            ),
            preserve_default=False,
        ),
        migrations.RenameField(
            model_name="register", old_name="automated_decision_details", new_name="automated_decision_details_fi"
        ),
        migrations.AlterField(
            model_name="register",
            name="automated_decision_details_fi",
            field=registers.fields.PersonalTextField(
                blank=True, max_length=10000, verbose_name="automated decision-making details (Finnish)"
            ),
        ),
        migrations.AddField(
            model_name="register",
            name="automated_decision_details_sv",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="automated decision-making details (Swedish)"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="register",
            name="automated_decision_details_en",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="automated decision-making details (English)"
            ),
            preserve_default=False,
        ),
        migrations.RenameField(model_name="register", old_name="data_categories", new_name="data_categories_fi"),
        migrations.AlterField(
            model_name="register",
            name="data_categories_fi",
            field=registers.fields.PersonalTextField(
                blank=True, max_length=10000, verbose_name="data categories (Finnish)"
            ),
        ),
        migrations.AddField(
            model_name="register",
            name="data_categories_sv",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="data categories (Swedish)"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="register",
            name="data_categories_en",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="data categories (English)"
            ),
            preserve_default=False,
        ),
        migrations.RenameField(model_name="register", old_name="regular_sources", new_name="regular_sources_fi"),
        migrations.AlterField(
            model_name="register",
            name="regular_sources_fi",
            field=registers.fields.PersonalTextField(
                blank=True, max_length=10000, verbose_name="regular sources of data (Finnish)"
            ),
        ),
        migrations.AddField(
            model_name="register",
            name="regular_sources_sv",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="regular sources of data (Swedish)"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="register",
            name="regular_sources_en",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="regular sources of data (English)"
            ),
            preserve_default=False,
        ),
        migrations.RenameField(model_name="register", old_name="recipients", new_name="recipients_fi"),
        migrations.AlterField(
            model_name="register",
            name="recipients_fi",
            field=registers.fields.PersonalTextField(
                blank=True, max_length=10000, verbose_name="regular disclosures and recipients (Finnish)"
            ),
        ),
        migrations.AddField(
            model_name="register",
            name="recipients_sv",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="regular disclosures and recipients (Swedish)"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="register",
            name="recipients_en",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="regular disclosures and recipients (English)"
            ),
            preserve_default=False,
        ),
        migrations.RenameField(
            model_name="register", old_name="openness_act_disclosures", new_name="openness_act_disclosures_fi"
        ),
        migrations.AlterField(
            model_name="register",
            name="openness_act_disclosures_fi",
            field=registers.fields.PersonalTextField(
                blank=True,
                max_length=10000,
                verbose_name="disclosures under the Act on the Openness of Government Activities (621/1999) (Finnish)",
            ),
        ),
        migrations.AddField(
            model_name="register",
            name="openness_act_disclosures_sv",
            field=registers.fields.PersonalTextField(
                blank=True,
                default="",
                max_length=10000,
                verbose_name="disclosures under the Act on the Openness of Government Activities (621/1999) (Swedish)",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="register",
            name="openness_act_disclosures_en",
            field=registers.fields.PersonalTextField(
                blank=True,
                default="",
                max_length=10000,
                verbose_name="disclosures under the Act on the Openness of Government Activities (621/1999) (English)",
            ),
            preserve_default=False,
        ),
        migrations.RenameField(
            model_name="register", old_name="transfers_outside_eea", new_name="transfers_outside_eea_fi"
        ),
        migrations.AlterField(
            model_name="register",
            name="transfers_outside_eea_fi",
            field=registers.fields.PersonalTextField(
                blank=True, max_length=10000, verbose_name="transfers outside the EU/EEA (Finnish)"
            ),
        ),
        migrations.AddField(
            model_name="register",
            name="transfers_outside_eea_sv",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="transfers outside the EU/EEA (Swedish)"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="register",
            name="transfers_outside_eea_en",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="transfers outside the EU/EEA (English)"
            ),
            preserve_default=False,
        ),
        migrations.RenameField(model_name="register", old_name="retention_text", new_name="retention_text_fi"),
        migrations.AlterField(
            model_name="register",
            name="retention_text_fi",
            field=registers.fields.PersonalTextField(
                blank=True, max_length=10000, verbose_name="retention periods or criteria (Finnish)"
            ),
        ),
        migrations.AddField(
            model_name="register",
            name="retention_text_sv",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="retention periods or criteria (Swedish)"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="register",
            name="retention_text_en",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="retention periods or criteria (English)"
            ),
            preserve_default=False,
        ),
        migrations.RenameField(
            model_name="register", old_name="protection_principles", new_name="protection_principles_fi"
        ),
        migrations.AlterField(
            model_name="register",
            name="protection_principles_fi",
            field=registers.fields.PersonalTextField(
                blank=True, max_length=10000, verbose_name="protection principles (Finnish)"
            ),
        ),
        migrations.AddField(
            model_name="register",
            name="protection_principles_sv",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="protection principles (Swedish)"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="register",
            name="protection_principles_en",
            field=registers.fields.PersonalTextField(
                blank=True, default="", max_length=10000, verbose_name="protection principles (English)"
            ),
            preserve_default=False,
        ),
    ]
