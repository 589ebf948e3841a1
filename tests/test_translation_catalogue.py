"""The translation catalogues are complete and compiled (issue 13, class check).

`makemessages` runs on a copy of the source tree, as a translator would run it, and every message it finds
must be in the committed Finnish and Swedish catalogues with a translation that is neither empty nor fuzzy.
Each committed `.mo` must hold exactly the translations of its `.po`: a catalogue edited without
`compilemessages` serves the old words (or English) while the `.po` looks right.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LOCALE = ROOT / "locale"
TRANSLATED = ("fi", "sv")
# What makemessages must not read: the virtualenv, collected static files and media, tests and benchmarks.
IGNORED = (".venv", "var", "tests", "bench")
NOT_COPIED = (".venv", "var", ".git", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "test-results")
SHOWN = 40  # messages listed per kind of fault; the count says how many there are in all


def key(entry) -> tuple[str, str]:
    return entry.msgctxt or "", entry.msgid


def describe(entry) -> str:
    where = ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:2])
    context = f" [{entry.msgctxt}]" if entry.msgctxt else ""
    return f"{entry.msgid!r}{context} ({where})" if where else f"{entry.msgid!r}{context}"


def listing(title: str, lines: list[str]) -> str:
    more = f"\n    ... and {len(lines) - SHOWN} more" if len(lines) > SHOWN else ""
    return f"{title}: {len(lines)}\n" + "\n".join(f"    {line}" for line in lines[:SHOWN]) + more


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict[str, polib.POFile]:
    """Run makemessages on a copy of the tree; return the catalogue it makes for each language."""
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.fail("GNU gettext is missing: install Debian's gettext package (scripts/test does)")
    copy = tmp_path_factory.mktemp("catalogue") / "tree"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*NOT_COPIED), symlinks=True)
    command = [sys.executable, "manage.py", "makemessages", *(f"-l{lang}" for lang in TRANSLATED)]
    command += [f"--ignore={path}" for path in IGNORED]
    done = subprocess.run(command, cwd=copy, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return {lang: polib.pofile(str(copy / "locale" / lang / "LC_MESSAGES" / "django.po")) for lang in TRANSLATED}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_has_a_translation(extracted, lang):
    committed = polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po"))
    entries = {key(entry): entry for entry in committed if not entry.obsolete}
    missing, empty, fuzzy = [], [], []
    for needed in extracted[lang]:
        if needed.obsolete:
            continue
        entry = entries.get(key(needed))
        if entry is None:
            missing.append(describe(needed))
        elif entry.fuzzy:
            fuzzy.append(describe(needed))
        elif not entry.translated():
            empty.append(describe(needed))
    faults = [
        listing(title, lines)
        for title, lines in [
            ("not in the catalogue (run makemessages and translate)", missing),
            ("empty translation", empty),
            ("fuzzy translation (check it and remove the flag)", fuzzy),
        ]
        if lines
    ]
    assert not faults, f"locale/{lang}/LC_MESSAGES/django.po:\n" + "\n".join(faults)


def translations(entries) -> dict[tuple[str, str], object]:
    """Map (context, msgid) to what gettext serves: the msgstr, or the plural forms in order."""
    found = {}
    for entry in entries:
        if not entry.msgid:  # the header
            continue
        found[key(entry)] = tuple(entry.msgstr_plural[n] for n in sorted(entry.msgstr_plural)) or entry.msgstr
    return found


@pytest.mark.parametrize("lang", sorted(path.name for path in LOCALE.iterdir() if path.is_dir()))
def test_compiled_catalogue_matches_its_source(lang):
    po_path = LOCALE / lang / "LC_MESSAGES" / "django.po"
    mo_path = po_path.with_suffix(".mo")
    shown = f"locale/{lang}/LC_MESSAGES/django.mo"
    assert mo_path.exists(), f"{shown} is missing: run compilemessages"
    # msgfmt leaves out fuzzy and untranslated entries: English, the source language, compiles to a header only.
    po = translations(polib.pofile(str(po_path)).translated_entries())
    mo = translations(polib.mofile(str(mo_path)))
    stale = sorted(f"{msgid!r}" for (_ctx, msgid), text in po.items() if mo.get((_ctx, msgid)) != text)
    extra = sorted(f"{msgid!r}" for (_ctx, msgid) in mo.keys() - po.keys())
    faults = [
        listing(title, lines)
        for title, lines in [
            ("translated in the .po but not so in the .mo", stale),
            ("in the .mo but not translated in the .po", extra),
        ]
        if lines
    ]
    assert not faults, (
        f"{shown} is older than its .po: run "
        "`manage.py compilemessages --ignore=.venv` and commit the .mo\n" + "\n".join(faults)
    )
