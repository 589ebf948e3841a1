"""Cell text for files that people open in a spreadsheet program: the CSV exports write every cell through here.

Excel, LibreOffice Calc and Google Sheets run a cell that starts with = + - or @ as a formula, and
OWASP's list of such first characters adds tab and carriage return ("CSV injection"): a customer
named `=HYPERLINK(...)` would become a live link, or worse, in the file a staff member opens. Names,
addresses, usernames and object names are typed by people, so a cell that starts with any of those
characters gets a ' in front, which a spreadsheet takes as "this is text".

The rule is deliberately the plain one, with no exception for what looks like a number: "-2+3" is
a formula too, and one rule is easier to trust than a rule and its exceptions. Plain numbers such
as "-15" and phone numbers such as "+358401234567" are prefixed as well; for a phone number that is
what a reader wants anyway, since without the ' Excel turns it into a number and drops the leading
+. (A program that reads the file as plain text sees the ' itself.)
"""

# A frozenset so that the per-cell test is one hash lookup: exports check every cell of up to
# 100,000 rows. `""[:1]` is "", which is not in the set, so empty cells need no test of their own.
FORMULA_FIRST = frozenset(("=", "+", "-", "@", "\t", "\r"))


def spreadsheet_cell(value) -> str:
    """Return the value as cell text ("" for None), with a ' in front when a spreadsheet would run it as a formula."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text[:1] in FORMULA_FIRST else text


def spreadsheet_row(*values) -> list[str]:
    """Return the values as one row of cell texts, each through `spreadsheet_cell`."""
    return [spreadsheet_cell(value) for value in values]


def spreadsheet_text(cell: str) -> str:
    """Return the text `spreadsheet_cell` wrote: a ' in front of a formula's first character is taken off.

    Files this project writes (the import's rejected rows) are fixed and read back: the ' must not become
    part of a name or a phone number.
    """
    return cell[1:] if cell[:1] == "'" and cell[1:2] in FORMULA_FIRST else cell
