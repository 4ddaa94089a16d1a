import datetime, time, random
import pytest
from django.utils import timezone
from django.db import connection
from guanxi.activities.models import Activity, ActivityAssignee
from guanxi.activities.calendar import calendar_events
from guanxi.core.services.organisation import user_create
from guanxi.core.tests.factories import role

pytestmark = pytest.mark.django_db

def test_perf(org):
    users = [org.rep1, org.rep2] + [user_create(username=f"p{i}", password="pw", actor=None, roles=[role("sales_rep")], department=org.east) for i in range(98)]
    base = timezone.make_aware(datetime.datetime(2030, 1, 1))
    rows = []
    rnd = random.Random(1)
    for i in range(100000):
        u = users[i % 10] if i < 5000 else users[i % len(users)]
        if i < 5000:
            start = base + datetime.timedelta(days=59 + rnd.random()*31)  # March 2030
        else:
            start = base + datetime.timedelta(days=rnd.random()*1460 - 1200)
        rows.append(Activity(owner=u, department_id=u.department_id, kind="meeting", subject=f"S{i}", start_at=start, end_at=start+datetime.timedelta(hours=1), due_at=start+datetime.timedelta(hours=1)))
    Activity.objects.bulk_create(rows, batch_size=2000)
    ids = [u.pk for u in users[:10]]
    s, e = timezone.make_aware(datetime.datetime(2030, 3, 1)), timezone.make_aware(datetime.datetime(2030, 4, 1))
    with connection.cursor() as c:
        c.execute("ANALYZE")
    for viewer in (org.manager, org.admin):
        for _ in range(3):
            t = time.perf_counter()
            ev = calendar_events(viewer=viewer, start=s, end=e, user_ids=ids)
            print(viewer, len(ev), round((time.perf_counter()-t)*1000), "ms")
    from guanxi.activities.calendar import _range_rows
    from guanxi.activities.calendar import _event_maker, calendar_colors
    from guanxi.activities import calendar as cal
    a, b = [], []
    mk = _event_maker(org.manager, calendar_colors(ids))
    for _ in range(7):
        t = time.perf_counter(); out1 = [mk(r) for r in _range_rows(org.manager, ids, s, e)]; a.append(time.perf_counter()-t)
        t = time.perf_counter(); out2 = [mk(r) for r in cal._fetch(_range_rows(org.manager, ids, s, e))]; b.append(time.perf_counter()-t)
    assert out1 == out2
    print("orm", round(min(a)*1000), "raw", round(min(b)*1000), "ms")
    c = []
    for _ in range(7):
        t = time.perf_counter(); calendar_events(viewer=org.manager, start=s, end=e, user_ids=ids); c.append(time.perf_counter()-t)
    print("calendar_events min", round(min(c)*1000), "ms")
