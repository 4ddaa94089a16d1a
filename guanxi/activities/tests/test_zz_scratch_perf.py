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
    users = [org.rep1, org.rep2] + [user_create(username=f"p{i}", password="pw", actor=None, roles=[role("sales_rep")], department=org.east) for i in range(8)]
    base = timezone.make_aware(datetime.datetime(2030, 1, 1))
    rows = []
    rnd = random.Random(1)
    for i in range(60000):
        u = users[i % len(users)]
        if i < 5000:
            start = base + datetime.timedelta(days=59 + rnd.random()*31)  # March 2030
        else:
            start = base + datetime.timedelta(days=rnd.random()*3650 - 1825)
        rows.append(Activity(owner=u, department_id=u.department_id, kind="meeting", subject=f"S{i}", start_at=start, end_at=start+datetime.timedelta(hours=1), due_at=start+datetime.timedelta(hours=1)))
    Activity.objects.bulk_create(rows, batch_size=2000)
    ids = [u.pk for u in users]
    s, e = timezone.make_aware(datetime.datetime(2030, 3, 1)), timezone.make_aware(datetime.datetime(2030, 4, 1))
    with connection.cursor() as c:
        c.execute("ANALYZE")
    for viewer in (org.manager, org.admin):
        for _ in range(3):
            t = time.perf_counter()
            ev = calendar_events(viewer=viewer, start=s, end=e, user_ids=ids)
            print(viewer, len(ev), round((time.perf_counter()-t)*1000), "ms")
    from guanxi.activities.calendar import _events_queryset
    from django.db.models import Q
    qs = _events_queryset(org.manager, ids).filter(start_at__lt=e).filter(Q(start_at__gte=s) | Q(due_at__gt=s))
    print(qs.explain())
