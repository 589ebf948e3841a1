"""Swedish as written in Finland: 30.11.2026, not Sweden's 2026-11-30.

The service's Swedish readers are Finland-Swedes, whose dates and times
follow the Finnish pattern (Institute for the Languages of Finland); anything
not set here falls back to Django's Swedish formats. Machine fields (CSV,
JSON, file names) stay ISO and do not use these.
"""

DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "j.n.Y"
TIME_FORMAT = "H.i"
DATETIME_FORMAT = "j F Y \\k\\l. H.i"
SHORT_DATETIME_FORMAT = "j.n.Y H.i"
# ISO first: Django writes a date field's value in the first pattern, and
# <input type="date"> accepts only ISO. What a Finland-Swede types also parses.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H.%M",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H.%M.%S",
    "%d.%m.%Y %H:%M:%S",
]
