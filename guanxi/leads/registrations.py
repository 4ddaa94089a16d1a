"""What leads registers with core, customers and activities; each area keeps its own module."""

from guanxi.leads.hooks import capture as _capture  # noqa: F401
from guanxi.leads.hooks import flow as _flow  # noqa: F401
from guanxi.leads.hooks import leads as _leads  # noqa: F401
from guanxi.leads.hooks import pools as _pools  # noqa: F401
