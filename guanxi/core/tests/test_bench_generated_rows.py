"""The generator's fast path (rows written with bench.gen_activities.Table, the full-text side
rebuilt at the end) writes what the services would: every search entry equals what the
search registration builds from the record read back from the database, every duplicate key
set equals record_keys, and the full-text side keeps following core_searchentry afterwards."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import translation

from bench import generate
from guanxi.core.models import ChangeRecord, SearchEntry, User
from guanxi.core.search.registry import registration_for
from guanxi.core.search.selectors import search
from guanxi.core.services.records import snapshot
from guanxi.customers.duplicates import record_keys
from guanxi.customers.models import Account, AccountContact, Contact, DuplicateKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(db):
    return generate.generate(
        size="toy", seed=7, accounts=40, users=5, departments=3, analyze=False,
        write_marker=False, log=lambda message: None, entities=("organisation", "customers"),
    )  # fmt: skip


def _entries(model) -> dict[int, SearchEntry]:
    content_type = ContentType.objects.get_for_model(model)
    return {e.object_id: e for e in SearchEntry.objects.filter(content_type=content_type)}


def _keys(model) -> dict[int, set[str]]:
    content_type = ContentType.objects.get_for_model(model)
    found: dict[int, set[str]] = {}
    for object_id, key in DuplicateKey.objects.filter(content_type=content_type).values_list(
        "object_id", "key"
    ):
        found.setdefault(object_id, set()).add(key)
    return found


def test_search_entries_and_duplicate_keys_are_the_services(customers):
    for model in (Account, Contact):
        registration = registration_for(model)
        entries, keys = _entries(model), _keys(model)
        records = list(model.objects.all())
        assert len(entries) == len(records) == customers["rows"][model._meta.db_table]
        for record in records:
            entry = entries[record.pk]
            # A contact's entry reads its own phones and e-mails, nobody else's.
            assert entry.document == registration.document_of(record), record
            assert entry.title == registration.title_of(record)
            with translation.override("zh-hans"):  # the generator writes Chinese ones
                assert entry.subtitle == registration.subtitle_of(record)
            assert keys.get(record.pk, set()) == record_keys(record), record
    with_two_phones = next(c for c in Contact.objects.all() if c.phones.count() == 2)
    for phone in with_two_phones.phones.all():
        assert phone.digits in _entries(Contact)[with_two_phones.pk].document


def test_history_is_the_create_snapshot(customers):
    contact_type = ContentType.objects.get_for_model(Contact)
    link_type = ContentType.objects.get_for_model(AccountContact)
    for model, content_type in ((Contact, contact_type), (AccountContact, link_type)):
        for record in model.objects.all():
            change = ChangeRecord.objects.get(content_type=content_type, object_id=record.pk)
            assert change.action == "create"
            assert change.object_repr == str(record)
            assert change.after == snapshot(record)
            assert change.created_at == record.created_at


def test_full_text_index_follows_new_entries_after_generation(customers):
    from guanxi.core.search.index import index_object

    admin = User.objects.filter(roles__is_admin=True).first()
    contact = Contact.objects.exclude(phones=None).first()
    number = contact.phones.first().digits
    assert contact.pk in [hit.pk for hit in search(user=admin, q=number)]
    # Written after the generator: found through the full-text side it put back.
    account = Account.objects.first()
    account.name = "Zyxwvut Quokka Trading"
    account.save()
    index_object(account)
    assert account.pk in [hit.pk for hit in search(user=admin, q="quokka")]


def test_plain_mobiles_are_what_phone_normalise_answers():
    """The generator writes mobiles without parsing them; phonenumbers agrees for every
    prefix it uses (and the check in plain_mobile_prefixes keeps out any it would not)."""
    import random

    from bench import names
    from guanxi.core.phones import phone_normalise

    prefixes = generate.plain_mobile_prefixes(tuple(names.MOBILE_PREFIXES))
    assert prefixes == set(names.MOBILE_PREFIXES)
    rng = random.Random(11)
    for prefix in prefixes:
        for _ in range(25):
            number = prefix + f"{rng.randint(0, 99_999_999):08d}"
            assert generate.plain_mobile(number) == phone_normalise(number)
    assert not generate.plain_mobile_prefixes(("110", "120"))  # not mobiles: parsed as usual


def test_the_prepared_names_are_the_services(customers):
    from guanxi.customers.duplicates import record_keys_and_name
    from guanxi.customers.models import MatchName

    stored = {
        (row.name, row.kind): (row.core, row.pinyin, row.trade) for row in MatchName.objects.all()
    }
    records = [*Account.objects.all(), *Contact.objects.prefetch_related("phones", "emails")]
    for record in records:
        _keys, prepared, kind = record_keys_and_name(record)
        assert stored[(prepared.name, kind)] == (prepared.core, prepared.pinyin, prepared.trade)
    assert customers["rows"]["customers_matchname"] == len(stored)
