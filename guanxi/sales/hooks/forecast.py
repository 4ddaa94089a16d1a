"""The forecast area's registrations: its API resources (/api/v1/forecast/,
/api/v1/forecast/adjustments/, /api/v1/sales-targets/)."""

from guanxi.sales.api import forecast as _api  # noqa: F401
