from guanxi.core.services.records import record_create
from guanxi.core.tests.leak import register_leak_maker
from guanxi.customers.models import Account


def make_account(*, owner, label, actor, **data):
    return record_create(
        model=Account,
        data={"name": label, "owner": owner, **data},
        actor=actor,
    )


register_leak_maker(Account, make_account)
