"""Clinical audit: SPC charts, funnel plots and small-number suppression, as pure functions.

Nothing here touches the database: callers pass series and counts in and get results, figures
and releasable tables back.
"""

from stratify.audit.disclosure import (
    DisclosureRules,
    disclose,
    disclose_count,
    disclose_rate,
    load_rules,
)
from stratify.audit.funnel import FunnelResult, control_limits, funnel
from stratify.audit.spc import Period, SPCResult, xmr

__all__ = [
    "DisclosureRules",
    "FunnelResult",
    "Period",
    "SPCResult",
    "control_limits",
    "disclose",
    "disclose_count",
    "disclose_rate",
    "funnel",
    "load_rules",
    "xmr",
]
