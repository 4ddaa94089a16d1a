"""The Simplified Chinese catalogue: complete, placeholders intact, compiled, and in use."""

import ast
import gettext as gnu_gettext
import re
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

CATALOGUE_DIR = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
PO_FILE = CATALOGUE_DIR / "django.po"
MO_FILE = CATALOGUE_DIR / "django.mo"

HAN = re.compile(r"[\u4e00-\u9fff]")


def parse_po(path: Path) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (index -> text), flags.

    Enough of the format for what makemessages writes; obsolete (#~) entries are skipped.
    """
    entries: list[dict] = []
    entry: dict | None = None
    field: tuple[str, int | None] | None = None

    def finish():
        if entry is not None and entry["msgid"] is not None:
            entries.append(entry)

    def new_entry():
        return {"msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": {}, "flags": set()}

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            finish()
            entry, field = None, None
            continue
        if entry is None:
            entry = new_entry()
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])? (\".*\")$", line)
        if match:
            keyword, index, literal = match.groups()
            text = ast.literal_eval(literal)
            if keyword == "msgstr":
                position = int(index) if index is not None else None
                entry["msgstr"][position] = text
                field = ("msgstr", position)
            else:
                entry[keyword] = text
                field = (keyword, None)
        elif line.startswith('"') and field is not None:
            text = ast.literal_eval(line)
            if field[0] == "msgstr":
                entry["msgstr"][field[1]] += text
            else:
                entry[field[0]] += text
        else:
            raise AssertionError(f"{path}:{number}: cannot read {line!r}")
    finish()
    return entries


@pytest.fixture(scope="module")
def entries():
    assert PO_FILE.exists(), f"{PO_FILE} is missing; run scripts/i18n.sh"
    return parse_po(PO_FILE)


def _messages(entries):
    """Every entry except the header (the one with an empty msgid)."""
    return [entry for entry in entries if entry["msgid"]]


def _translated(entries):
    """Entries with every msgstr filled and not fuzzy (the completeness test reports the rest)."""
    return [
        entry
        for entry in _messages(entries)
        if entry["msgstr"] and all(entry["msgstr"].values()) and "fuzzy" not in entry["flags"]
    ]


def _label(entry) -> str:
    context = f"[{entry['msgctxt']}] " if entry["msgctxt"] else ""
    return context + entry["msgid"]


PRINTF = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc%]")
BRACES = re.compile(r"\{[^{}\s]*\}")
TAGS = re.compile(r"</?[a-zA-Z][^<>]*>")


def _placeholders(text: str) -> Counter:
    return (
        Counter(PRINTF.findall(text)) + Counter(BRACES.findall(text)) + Counter(TAGS.findall(text))
    )


def test_the_parser_reads_entries_with_context_plurals_and_wrapped_lines(tmp_path):
    sample = tmp_path / "sample.po"
    sample.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        '#: a.py\n#, fuzzy, python-format\nmsgctxt "box"\nmsgid "%(n)s \\"x\\""\nmsgstr ""\n'
        '"%(n)s "\n"个"\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "多"\n\n'
        '#~ msgid "gone"\n#~ msgstr "旧"\n',
        encoding="utf-8",
    )
    header, quoted, plural = parse_po(sample)
    assert header["msgid"] == "" and "Language: zh_Hans" in header["msgstr"][None]
    assert quoted["msgctxt"] == "box" and quoted["msgid"] == '%(n)s "x"'
    assert quoted["msgstr"][None] == "%(n)s 个" and "fuzzy" in quoted["flags"]
    assert plural["msgid_plural"] == "many" and plural["msgstr"] == {0: "多"}


def test_the_catalogue_is_complete_and_has_no_fuzzy_entries(entries):
    header = entries[0]
    assert header["msgid"] == ""
    assert "fuzzy" not in header["flags"]
    assert "Plural-Forms: nplurals=1; plural=0;" in header["msgstr"][None]
    assert "charset=UTF-8" in header["msgstr"][None]

    messages = _messages(entries)
    assert len(messages) > 500
    untranslated = [_label(e) for e in messages if not e["msgstr"] or not all(e["msgstr"].values())]
    fuzzy = [_label(e) for e in messages if "fuzzy" in e["flags"]]
    assert untranslated == [], f"untranslated (run scripts/i18n.sh and translate): {untranslated}"
    assert fuzzy == [], f"fuzzy (check them, then remove the flag): {fuzzy}"


def test_plural_entries_have_the_single_chinese_form(entries):
    plurals = [e for e in _messages(entries) if e["msgid_plural"] is not None]
    assert plurals
    for entry in plurals:
        assert set(entry["msgstr"]) == {0}, _label(entry)


def test_every_translation_keeps_the_placeholders_of_its_msgid(entries):
    wrong = []
    for entry in _translated(entries):
        for index, text in entry["msgstr"].items():
            source = entry["msgid_plural"] if index and entry["msgid_plural"] else entry["msgid"]
            expected = _placeholders(source)
            if entry["msgid_plural"] is not None:
                # Chinese uses one form for every count; it may use either English form's names.
                expected_any = [expected, _placeholders(entry["msgid_plural"])]
            else:
                expected_any = [expected]
            if _placeholders(text) not in expected_any:
                wrong.append(f"{_label(entry)!r} -> {text!r}")
    assert wrong == []


def test_translations_are_chinese(entries):
    """A msgstr equal to its English msgid is usually a forgotten translation."""
    same = [
        _label(e)
        for e in _translated(entries)
        if e["msgstr"].get(None) == e["msgid"] and not PRINTF.fullmatch(e["msgid"])
    ]
    assert same == []
    without_han = [
        _label(e)
        for e in _translated(entries)
        if not any(HAN.search(text) for text in e["msgstr"].values())
    ]
    # Only pure placeholders or brand names may stay without Chinese characters.
    assert all(not re.search(r"[a-z]{4,}", PRINTF.sub("", label)) for label in without_han), (
        without_han
    )


def test_the_compiled_catalogue_matches_the_po_file(entries):
    with MO_FILE.open("rb") as handle:
        compiled = gnu_gettext.GNUTranslations(handle)
    stale = []
    for entry in _translated(entries):
        key = (
            entry["msgid"]
            if entry["msgctxt"] is None
            else f"{entry['msgctxt']}\x04{entry['msgid']}"
        )
        if entry["msgid_plural"] is None:
            if compiled._catalog.get(key) != entry["msgstr"][None]:
                stale.append(_label(entry))
        elif compiled._catalog.get((key, 0)) != entry["msgstr"][0]:
            stale.append(_label(entry))
    assert stale == [], f"django.mo is out of date (run scripts/i18n.sh): {stale}"


def test_known_strings_translate_in_simplified_chinese():
    from guanxi.customers.models import Account

    with translation.override("zh-hans"):
        assert translation.gettext("Customers") == "客户"
        assert translation.gettext("Recycle bin") == "回收站"
        assert translation.gettext("Sign in") == "登录"
        assert str(Account._meta.verbose_name) == "客户"
        assert (
            translation.pgettext("envelope recipient", "%(name)s") % {"name": "张伟"} == "张伟 收"
        )
        assert (
            translation.gettext("Similar name (%(score)s%%)") % {"score": 92} == "名称相似（92%）"
        )
        message = translation.ngettext(
            "Try again in %(minutes)s minute.", "Try again in %(minutes)s minutes.", 5
        )
        assert message % {"minutes": 5} == "请 5 分钟后重试。"
    with translation.override("en"):
        assert translation.gettext("Customers") == "Customers"
        assert str(Account._meta.verbose_name) == "account"


@pytest.mark.django_db
def test_the_login_page_speaks_chinese(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="zh-hans"' in page
    assert "登录" in page
    assert "Sign in" not in page
    assert "忘记密码？请联系管理员重置。" in page


@pytest.mark.django_db
def test_the_login_page_speaks_english_when_asked(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Sign in" in page
    assert "登录" not in page
