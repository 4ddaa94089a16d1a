"""Fixtures every app's tests share: an organisation with users in each role."""

import pytest

from guanxi.core.tests.factories import OrganisationFactory


@pytest.fixture
def org(db):
    """Two sales departments under a sales division, and users in each default role.

    华东销售部 (east): rep1, rep2, manager (its manager); 华北销售部 (north): rep3;
    plus admin, finance, read_only, an outsider in 服务部.
    """
    return OrganisationFactory.build_org()


@pytest.fixture(autouse=True)
def english_by_default(settings):
    """Tests read English messages; tests of the Chinese interface switch explicitly.

    The product's own default stays zh-hans (settings.LANGUAGE_CODE).
    """
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


# The default roles and picklists come from data migrations; a transactional test's flush
# removes them, so tests with real transactions (concurrency) put them back first — cheaper
# than serialising the whole database for every test run.
SEED_MIGRATIONS = [
    ("guanxi.core.migrations.0002_default_roles", "create_defaults"),
    ("guanxi.customers.migrations.0003_customer_picklists", "create_defaults"),
    ("guanxi.activities.migrations.0002_activity_picklists", "create_picklists"),
    ("guanxi.leads.migrations.0002_lead_picklists", "create_sources"),
    ("guanxi.sales.migrations.0002_defaults", "create_defaults"),
    ("guanxi.sales.migrations.0003_catalogue_permissions", "restrict_catalogue"),
]


@pytest.fixture
def seeded(transactional_db):
    """A database with real transactions, emptied between tests, the defaults reloaded."""
    import importlib

    from django.apps import apps

    for module, function in SEED_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)
