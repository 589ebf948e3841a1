"""Date and number formats that differ from Django's for the languages of this service (FORMAT_MODULE_PATH)."""
