from guanxi.leads.api import pools as _pools  # noqa: E402, F401  (/api/v1/pools/)
