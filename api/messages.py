"""Django's own messages that REST framework translates too, in other words (its Swedish catalogue).

An installed app's catalogue outranks Django's, so adding REST framework changed the web forms' Swedish errors
("Detta fält måste fyllas i." became "Det här fältet är obligatoriskt."). Marked here, these messages are in the
project's catalogue with Django's wording, and the project's catalogue outranks both.
"""

from django.utils.translation import gettext_noop

DJANGO_WORDING = (
    gettext_noop("This field is required."),
    gettext_noop("Enter a valid email address."),
    gettext_noop("Enter a valid URL."),
    gettext_noop("The submitted file is empty."),
    gettext_noop("Upload a valid image. The file you uploaded was either not an image or a corrupted image."),
)
