"""Translatable texts of the sales app: "Open" as the state of an opportunity or a stage
has its own context ("opportunity"), so a translator can tell it from "open" a page or a
file; counted messages use plural forms."""

import re
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import trans_real

from guanxi.sales.forms import OpportunityFilterSet
from guanxi.sales.models import StageKind

SALES = Path(__file__).resolve().parent.parent


@pytest.fixture
def catalogue_entry(monkeypatch):
    """A translation of "Open" in the opportunity context only, for the test."""
    with translation.override("zh-hans"):
        catalog = trans_real.translation("zh-hans")._catalog
        # The first of the catalogue's dictionaries is read first; the entry goes after.
        monkeypatch.setitem(catalog._catalogs[0], "opportunity\x04Open", "进行中（测试）")
        yield


def test_open_state_reads_the_opportunity_context(catalogue_entry):
    from guanxi.sales.views.opportunities import _status

    class Deal:
        is_closed = False
        is_won = False

    assert str(StageKind.OPEN.label) == "进行中（测试）"
    assert _status(Deal()) == "进行中（测试）"
    choices = dict(OpportunityFilterSet.base_filters["status"].extra["choices"])
    assert str(choices["open"]) == "进行中（测试）"
    assert translation.gettext("Open") != "进行中（测试）"


def test_no_bare_open_msgid_or_plural_hack_in_sales():
    bare = re.compile(r"""(?:\b_|gettext(?:_lazy)?)\(\s*["']Open["']\s*\)""")
    bare_template = re.compile(r"""\{%\s*translate\s+["']Open["']\s*%\}""")
    hack = re.compile(r"""\w\(s\)""")
    problems = []
    for path in SALES.rglob("*"):
        if (
            "tests" in path.parts
            or "migrations" in path.parts
            or path.suffix
            not in (
                ".py",
                ".html",
            )
        ):
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in (bare, bare_template, hack):
            problems += [f"{path.name}: {match.group(0)}" for match in pattern.finditer(text)]
    assert problems == []
