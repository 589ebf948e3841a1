"""Every page of every role fits the screen and speaks the user's language (issue 13, class check).

The pages come from the permission matrix (`tests/test_permission_matrix.py`): each route of the URL walk that a
persona may open with GET on an object of their own register, filled in from the matrix's world. Downloads (PDF,
CSV, JSON) and POST-only routes are left out, and so is the admin, which is Django's own screen. Each page is opened
in Finnish and in Swedish, in a desktop (1366 x 900) and a phone (390 x 844) window, and fails on:

- a horizontal scrollbar: the document is wider than the window;
- a word broken across lines in a table cell: one word's text spans more than one line box (a break at a hyphen or
  a slash is a break between words);
- English text: a visible text (or placeholder, title, label) that is a message of the catalogues whose translation
  in the page's language is different or missing, or that reads as English by its small words.

Each test is one persona in one language; its message lists every fault, grouped by kind, with the page and window.
"""

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass
from importlib import import_module
from urllib.parse import urlsplit

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation
from playwright.sync_api import Error as PlaywrightError
from pytest_django.live_server_helper import LiveServer

from registers.language import SESSION_KEY

from .. import test_permission_matrix as matrix

pytestmark = pytest.mark.browser

# The matrix's personas that hold a role (the data subject is "anon", with the links sent by e-mail).
PERSONAS = ("anon", "staff", "expert", "handler", "owner", "main", "manager")
LANGUAGES = ("fi", "sv")
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
# The Django admin and the integration API's Swagger UI are their tools' own screens, in English. Health,
# readiness and metrics are plain text and JSON for machines (tests/ops/), no page to lay out or translate.
SKIPPED_PREFIXES = ("admin/", "api/v1/docs/", "healthz", "readyz", "metrics")
SessionStore = import_module(settings.SESSION_ENGINE).SessionStore

# Words that are the same in English and in the page's language, or names: never a leak.
ALLOWED = {"Rekisteri", "OK", "PDF", "CSV", "JSON", "ID", "Y-tunnus", "FO-nummer", "IBAN", "BIC", "GDPR", "EU"}
# Small English words that Finnish and Swedish do not use; two of them in a short text read as English.
ENGLISH_WORDS = {
    "the", "and", "of", "to", "is", "are", "was", "for", "with", "this", "that", "your", "you", "not", "no", "has",
    "have", "be", "by", "on", "at", "or", "an", "from", "will", "can", "been", "which", "there", "these", "when",
    "it", "its", "if", "any", "all", "who", "what", "where", "here", "please",
}  # fmt: skip
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[sdif]|\{\w*\}")

# Runs in the page: what is wrong with the layout, and every visible text for the language check in Python.
INSPECT = r"""
() => {
  const root = document.documentElement;
  const width = root.clientWidth;
  const result = {lang: root.lang, overflow: null, broken: [], texts: []};
  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += '#' + el.id;
    const classes = typeof el.className === 'string' ? el.className.trim() : '';
    if (classes) name += '.' + classes.split(/\s+/).join('.');
    return name;
  };
  const clipped = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible') return true;
    }
    return false;
  };
  if (root.scrollWidth > width) {
    // What sticks out: the deepest element whose box, or content spilling out of it (a long word), reaches past
    // the right edge; a parent stretched by it is not named, nor anything inside a box that scrolls or clips.
    const reach = (el) => {
      const box = el.getBoundingClientRect();
      return Math.max(box.right, getComputedStyle(el).overflowX === 'visible' ? box.left + el.scrollWidth : 0);
    };
    const out = [];
    for (const el of document.body.querySelectorAll('*')) {
      if (!el.getBoundingClientRect().width || clipped(el) || reach(el) <= width + 1) continue;
      if ([...el.children].some((child) => reach(child) > width + 1)) continue;
      const text = (el.innerText || el.value || '').replace(/\s+/g, ' ').trim().slice(0, 40);
      out.push(`${describe(el)} "${text}" reaches ${Math.round(reach(el))}px`);
    }
    result.overflow = {scrollWidth: root.scrollWidth, width: width, elements: out.slice(0, 4)};
  }
  // Code and raw data (an audit entry's JSON) may break anywhere and are not UI text.
  const code = 'pre, code, kbd, samp, script, style, template, noscript';
  // Shown to the user: not in a closed <details>, display:none or visibility:hidden.
  // (Text right inside a closed <details>, outside its summary, is hidden though its parent is not.)
  const shown = (el) => el.checkVisibility({visibilityProperty: true}) && !el.matches('details:not([open])');
  // A word is a run of characters between spaces, hyphens, dashes and slashes: the browser may break there.
  const seen = new Set();
  for (const cell of document.querySelectorAll('td, th')) {
    if (cell.closest(code) || !shown(cell)) continue;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (seen.has(node)) continue;
      seen.add(node);
      if (node.parentElement.closest(code) || !shown(node.parentElement)) continue;
      const words = /[^\s\-\u00ad\u2010-\u2015\/]{2,}/g;
      let match;
      while ((match = words.exec(node.data))) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const rects = [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0);
        if (rects.length < 2) continue;
        const tops = rects.map((r) => r.top);
        const line = Math.min(...rects.map((r) => r.height));
        if (Math.max(...tops) - Math.min(...tops) >= line / 2) {
          const cellWidth = Math.round(cell.getBoundingClientRect().width);
          result.broken.push({word: match[0], cell: describe(cell), width: cellWidth});
        }
      }
    }
  }
  // Visible text: text nodes shown on the page, and the words a page shows or reads out from attributes.
  const texts = new Set();
  const skip = code + ', #language-select';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.data.replace(/\s+/g, ' ').trim();
    const parent = node.parentElement;
    if (!text || !parent || parent.closest(skip)) continue;
    if (parent.tagName === 'OPTION') {
      if (!shown(parent.closest('select') || parent)) continue;
    } else if (!shown(parent)) {
      continue;
    }
    texts.add(text);
  }
  const labelled = '[placeholder], [title], [aria-label], [alt], input[type=submit], input[type=button]';
  for (const el of document.querySelectorAll(labelled)) {
    if (el.closest(skip)) continue;
    for (const name of ['placeholder', 'title', 'aria-label', 'alt', 'value']) {
      if (name === 'value' && !['submit', 'button'].includes(el.type)) continue;
      const value = (el.getAttribute(name) || '').replace(/\s+/g, ' ').trim();
      if (value) texts.add(value);
    }
  }
  texts.add(document.title.replace(/\s+/g, ' ').trim());
  result.texts = [...texts];
  return result;
}
"""


def normalised(text: str) -> str:
    return " ".join(text.split())


class English:
    """Tell whether a text shown on a page in `lang` is English that should have been translated."""

    def __init__(self, lang: str):
        locale = settings.BASE_DIR / "locale"
        source = polib.pofile(str(locale / "en" / "LC_MESSAGES" / "django.po"))
        target = polib.pofile(str(locale / lang / "LC_MESSAGES" / "django.po"))
        translated = {entry.msgid: entry.msgstr for entry in target.translated_entries()}
        # Words of the page's language, whatever message they translate: "Status" in Swedish is Swedish.
        self.local = {normalised(text) for text in translated.values()}
        self.local |= {
            normalised(text) for entry in target.translated_entries() for text in entry.msgstr_plural.values()
        }
        msgids = {entry.msgid for entry in [*source, *target] if entry.msgid and not entry.obsolete}
        msgids |= {entry.msgid_plural for entry in [*source, *target] if entry.msgid_plural}
        self.exact = set()
        self.patterns = []
        for msgid in msgids:
            if "<" in msgid or translated.get(msgid) == msgid:
                continue
            text = normalised(msgid)
            if PLACEHOLDER.search(text):
                literal = PLACEHOLDER.sub(" ", text)
                # A message that is mostly a placeholder would match any data.
                if len(re.findall(r"[A-Za-z]{3,}", literal)) >= 2:
                    parts = [re.escape(part) for part in PLACEHOLDER.split(text)]
                    self.patterns.append((re.compile("^" + ".+?".join(parts) + "$"), msgid))
            else:
                self.exact.add(text)
        self.exact -= ALLOWED

    def leak(self, text: str) -> str | None:
        """Return why `text` is English, or None."""
        candidates = {text, text.rstrip(":*… ").strip()}
        if candidates & self.local or candidates & ALLOWED:
            return None
        if candidates & self.exact:
            return "untranslated message"
        for pattern, _msgid in self.patterns:
            if pattern.match(text):
                return "untranslated message"
        words = re.findall(r"[A-Za-z]+", text)
        small_words = {word.lower() for word in words} & ENGLISH_WORDS
        if not re.search(r"[äöåÄÖÅ]", text) and len(words) >= 3 and len(small_words) >= 2:
            return "English-looking text"
        return None


def pages_of(world, persona: str) -> list[tuple[str, str]]:
    """Return (route name, URL) of every GET route the matrix lets `persona` open on their own objects."""
    found = []
    for key, route, name in matrix.MATRIX_ROUTES:
        if route.startswith(SKIPPED_PREFIXES):
            continue
        rule = matrix.rule_for(name, route)
        if rule is None or persona not in rule.personas:  # a route new to the matrix fails there
            continue
        column = matrix.World.columns(rule.family)[0]
        if matrix.matches(matrix.expected(rule, "GET", persona, column), 200):
            found.append((key, world.url(route, rule.family, column)))
    return found


@dataclass
class Site:
    world: matrix.World
    url: str
    sessions: dict  # (persona, language) -> session key of a user signed in and working in that language


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, tmp_path_factory):
    """The matrix's world, built once for the module and committed, and a live server of its own.

    pytest-django's live_server empties the database after every test: rebuilding the world for each persona and
    language took as long as opening the pages. The database is emptied here at the end instead, as it is after
    every test that uses live_server.
    """
    media = tmp_path_factory.mktemp("every-page-media")
    rate_limits = {"ip": (100000, 3600), "email": (100000, 3600)}
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=media,
            PRIVACY_RATE_LIMITS=rate_limits,
            ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "localhost"],
            # As in the matrix: the company register's pages exist, and none of the pages opened calls it.
            PRH_API_URL="http://127.0.0.1:9/v3",
        ),
    ):
        try:
            with translation.override("en"):
                world = matrix._build_world(media)
            sessions = {}
            for (persona, key), lang in itertools.product(world.sessions.items(), LANGUAGES):
                session = SessionStore()
                session.update(SessionStore(session_key=key).load())
                session[SESSION_KEY] = lang
                session.create()
                sessions[persona, lang] = session.session_key
            server = LiveServer("localhost")
            try:
                yield Site(world=world, url=server.url, sessions=sessions)
            finally:
                server.stop()
        finally:
            call_command("flush", interactive=False, verbosity=0)


def inspect(page, where: str, lang: str, english: English | None, found: dict[str, list[str]]) -> None:
    """Check the page in the window it has now (and its words, given `english`); add faults to `found`, by kind."""
    seen = page.evaluate(INSPECT)
    if seen["lang"] != lang:
        found["page language"].append(f"{where}: <html lang={seen['lang']!r}>")
    if seen["overflow"]:
        overflow = seen["overflow"]
        found["horizontal scroll"].append(
            f"{where}: {overflow['scrollWidth']}px wide in {overflow['width']}px; " + "; ".join(overflow["elements"])
        )
    if seen["broken"]:
        words = [f"{b['word']!r} in {b['cell']} ({b['width']}px)" for b in seen["broken"]]
        more = f" and {len(words) - 3} more" if len(words) > 3 else ""
        found["word broken in a table cell"].append(f"{where}: " + ", ".join(words[:3]) + more)
    leaks = defaultdict(list)
    for text in sorted(seen["texts"]) if english else ():
        why = english.leak(text)
        if why:
            leaks[why].append(repr(text[:100]))
    for why, texts in leaks.items():
        more = f" and {len(texts) - 6} more" if len(texts) > 6 else ""
        found[why].append(f"{where}: " + ", ".join(texts[:6]) + more)


# Marked for the database so that pytest-django sets the test database up; `site` holds the data.
@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_every_page_fits_and_is_translated(site, browser, persona, lang):
    host = urlsplit(site.url).hostname
    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "domain": host, "path": "/"}]
    if persona != "anon":
        session = site.sessions[persona, lang]
        cookies.append({"name": settings.SESSION_COOKIE_NAME, "value": session, "domain": host, "path": "/"})
    pages = pages_of(site.world, persona)
    english = English(lang)
    found: dict[str, list[str]] = defaultdict(list)
    # One window, resized: the phone layout is the same page under other media queries.
    desktop, phone = VIEWPORTS
    context = browser.new_context(viewport=VIEWPORTS[desktop], locale=f"{lang}-FI")
    context.add_cookies(cookies)
    page = context.new_page()
    opened = 0
    try:
        for key, url in pages:
            try:
                response = page.goto(site.url + url)
            except PlaywrightError as error:
                if "Download is starting" in str(error):  # a file, not a page
                    continue
                raise
            if response.status != 200:
                found["status"].append(f"{key} {url}: {response.status}")
                continue
            if not response.header_value("content-type").startswith("text/html"):
                continue
            opened += 1
            inspect(page, f"{desktop} {key} {url}", lang, english, found)
            page.set_viewport_size(VIEWPORTS[phone])
            # The words are the same in both windows: only the layout is checked again.
            inspect(page, f"{phone} {key} {url}", lang, None, found)
            page.set_viewport_size(VIEWPORTS[desktop])
    finally:
        context.close()
    assert opened, f"{persona} opened no page"
    report = [f"{kind} ({len(lines)}):\n    " + "\n    ".join(lines) for kind, lines in sorted(found.items())]
    assert not report, f"{persona} in {lang}, {opened} pages:\n" + "\n".join(report)


SAMPLE = """<!DOCTYPE html><html lang="fi"><body>
<table><tr>
  <td id="broken" style="width: 60px; max-width: 60px; overflow-wrap: anywhere">Asiakkuudenhallintajärjestelmä</td>
  <td style="width: 60px; max-width: 60px">sähköposti-osoite</td>
  <td><details><summary>Tiedot</summary>Save</details></td>
</tr></table>
<pre>{"the": "raw", "and": "entry"}</pre>
<p>Sign out</p><p>Kirjaudu ulos</p><p>This is not in the catalogue and it shows</p>
<div style="width: 2000px">leveä</div>
</body></html>"""


def test_the_checks_see_what_they_look_for(browser):
    """The checks are not vacuous: a made-up page with each fault fails each of them, and only there."""
    context = browser.new_context(viewport=VIEWPORTS["phone"])
    page = context.new_page()
    try:
        page.set_content(SAMPLE)
        found = defaultdict(list)
        inspect(page, "sample", "fi", English("fi"), found)
    finally:
        context.close()
    assert set(found) == {
        "horizontal scroll",
        "word broken in a table cell",
        "untranslated message",
        "English-looking text",
    }
    assert "2000" in found["horizontal scroll"][0] or "div" in found["horizontal scroll"][0]
    # The long word broken by overflow-wrap is found; a break at a hyphen is not a broken word.
    assert "Asiakkuudenhallintajärjestelmä" in found["word broken in a table cell"][0]
    assert "sähköposti" not in found["word broken in a table cell"][0]
    # "Sign out" in a paragraph is English; "Save" inside a closed <details> is not shown.
    assert found["untranslated message"] == ["sample: 'Sign out'"]
    assert found["English-looking text"] == ["sample: 'This is not in the catalogue and it shows'"]
