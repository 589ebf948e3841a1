"""The privacy app: data-subject requests, the rights they carry, retention and statistics, one Django app in
four sub-packages (see each `__init__`). May import crm and registers; neither of them imports privacy."""
