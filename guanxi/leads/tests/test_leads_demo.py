"""The demo leads: spread over owners, sources and statuses, some unowned, one web form;
loading twice adds nothing."""

import random

import pytest

from guanxi.core.demo import DemoData
from guanxi.leads import demo
from guanxi.leads.models import Lead, WebForm

pytestmark = pytest.mark.django_db


def test_demo_leads_are_varied_and_idempotent(org, monkeypatch):
    monkeypatch.setattr(demo, "LEAD_COUNT", 36)
    data = DemoData(rng=random.Random(7), users={"sales.rep1": org.rep1, "sales.rep3": org.rep3})
    demo.load_demo_data(demo=data, verbosity=0)
    leads = list(Lead.objects.all())
    assert len(leads) == 36
    assert {lead.owner for lead in leads} == {org.rep1, org.rep3, None}
    statuses = {lead.status for lead in leads}
    assert len(statuses) >= 3 and "converted" not in statuses
    assert len({lead.source_id for lead in leads}) >= 3
    assert all(lead.province for lead in leads)
    form = WebForm.objects.get(name=demo.FORM_NAME)
    assert form.created_by == org.admin and form.source.value == "web_form"
    demo.load_demo_data(demo=data, verbosity=0)
    assert Lead.objects.count() == 36 and WebForm.objects.count() == 1
