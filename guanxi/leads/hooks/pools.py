"""Public pools: unowned leads and accounts are visible to the members of the pool that
holds them (the data scope's pool rule), and the pools API registers itself."""

from guanxi.core.scope import register_pool_rule
from guanxi.leads.selectors.pools import pool_visibility_rule

register_pool_rule("leads.lead", pool_visibility_rule)
register_pool_rule("customers.account", pool_visibility_rule)
