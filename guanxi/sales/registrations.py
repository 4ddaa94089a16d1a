"""What sales registers with core, customers, activities and leads; one module per area."""

from guanxi.sales.hooks import board as _board  # noqa: F401
from guanxi.sales.hooks import catalogue as _catalogue  # noqa: F401
from guanxi.sales.hooks import forecast as _forecast  # noqa: F401
from guanxi.sales.hooks import opportunities as _opportunities  # noqa: F401
