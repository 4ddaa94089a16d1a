"""Round-robin under concurrent submissions: real transactions in several threads (each
with its own connection) on SQLite and PostgreSQL (DATABASE_URL). Every member gets the
same share, and the turn counter counts every assignment once.

The SQLite test database lives in shared-cache memory, where a writer that finds the
database busy is refused at once ("database table is locked") instead of waiting as it does
on a database file (busy_timeout): there the whole assignment is retried."""

import os
import threading
from collections import Counter

import pytest
from django.db import OperationalError, connection, transaction

from guanxi.core.models import User
from guanxi.leads.models import AssignmentRule, Lead
from guanxi.leads.services import assignment
from guanxi.leads.tests.factories import make_lead


def _assign(lead_id: int, actor: User):
    for _attempt in range(20000):
        try:
            with transaction.atomic():
                lead = Lead.objects.get(pk=lead_id)
                return assignment.lead_assign_by_rules(lead=lead, actor=actor)
        except OperationalError as error:
            if connection.vendor != "sqlite" or "locked" not in str(error):
                raise
            os.sched_yield()
    raise AssertionError("the database stayed locked")


@pytest.mark.django_db(transaction=True)
def test_concurrent_round_robin_never_gives_two_leads_the_same_turn(seeded, org):
    members = [org.rep1, org.rep2, org.rep3]
    rule = assignment.assignment_rule_save(
        actor=org.admin,
        data={"name": "group", "action": "round_robin", "conditions": {}},
        members=members,
    )
    lead_ids = [make_lead(owner=None, label=f"lead {n}", actor=org.admin).pk for n in range(9)]
    barrier = threading.Barrier(len(lead_ids))
    errors: list[str] = []

    def work(lead_id):
        try:
            actor = User.objects.get(pk=org.admin.pk)
            barrier.wait(timeout=20)
            _assign(lead_id, actor)
        except Exception as error:  # noqa: BLE001 - reported in the assertion
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(pk,)) for pk in lead_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    owners = Counter(Lead.objects.filter(pk__in=lead_ids).values_list("owner__username", flat=True))
    assert owners == {"rep1": 3, "rep2": 3, "rep3": 3}
    assert AssignmentRule.objects.get(pk=rule.pk).turn == 9
