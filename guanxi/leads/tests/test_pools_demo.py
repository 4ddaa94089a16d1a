"""The demo pools: one leads and one accounts pool per region, records in them, idempotent."""

import pytest

from guanxi.leads.demo_pools import load_demo_data
from guanxi.leads.models import Pool, PoolEntry
from guanxi.leads.services.pools import recycle_run

pytestmark = pytest.mark.django_db


def test_demo_pools_load_once(org):
    import random

    from guanxi.core.demo import DemoData
    from guanxi.customers.tests.factories import make_account
    from guanxi.leads.tests.factories import make_lead

    for index in range(10):
        for owner in (org.rep1, org.rep3):
            make_account(owner=owner, label=f"{owner.username} account {index}", actor=owner)
        make_lead(owner=org.rep1, label=f"lead {index}", actor=org.rep1)
    demo = DemoData(
        rng=random.Random(1),
        departments={"华东销售部": org.east, "华北销售部": org.north},
        users={"sales.manager": org.manager},
    )
    load_demo_data(demo=demo, verbosity=0)
    names = set(Pool.objects.values_list("name", flat=True))
    assert {"华东线索公海", "华北线索公海", "华东客户公海", "华北客户公海"} <= names
    assert all(pool.rules.exists() for pool in Pool.objects.filter(name__in=names))
    entries = PoolEntry.objects.count()
    assert entries >= 16
    load_demo_data(demo=demo, verbosity=0)
    assert PoolEntry.objects.count() == entries
    assert Pool.objects.filter(name="华东线索公海").count() == 1
    # Aged owned records give the dry run something to show.
    assert recycle_run(dry_run=True)
