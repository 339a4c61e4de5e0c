"""apac-lab: notebooks and a small PyTorch package for brain-inspired audio front-ends
and the APAC speech classifier.

Subpackages follow the notebook order: :mod:`apac_lab.frontends`, :mod:`apac_lab.models`,
:mod:`apac_lab.data`, :mod:`apac_lab.train`, plus :mod:`apac_lab.plots` and
:mod:`apac_lab.widgets`.
"""

from apac_lab.utils import (
    BUDGETS, budget_banner, budget_reason, by_budget, current_budget, get_device, is_offline, is_quick, quick_or_full,
    seed_everything, set_budget,
)

__version__ = "0.1.0"

__all__ = ["__version__", "BUDGETS", "budget_banner", "budget_reason", "by_budget", "current_budget", "get_device",
           "is_offline", "is_quick", "quick_or_full", "seed_everything", "set_budget"]
