"""apac-lab: notebooks and a small PyTorch package for brain-inspired audio front-ends
and the APAC speech classifier.

Layers, bottom to top (imports only point down; ``tests/test_layers.py``):
:mod:`apac_lab.utils` and :mod:`apac_lab.checkpoints` (leaves); :mod:`apac_lab.frontends` and
:mod:`apac_lab.data`; :mod:`apac_lab.models`; :mod:`apac_lab.train`; :mod:`apac_lab.recipes`
(each notebook's experiments). Beside them: :mod:`apac_lab.plots`, :mod:`apac_lab.widgets`
and :mod:`apac_lab.exercises`.
"""

from apac_lab.utils import (
    BUDGETS, budget_banner, budget_reason, by_budget, current_budget, get_device, is_offline, is_quick, quick_or_full,
    seed_everything, set_budget,
)

from apac_lab._release import __version__

__all__ = ["__version__", "BUDGETS", "budget_banner", "budget_reason", "by_budget", "current_budget", "get_device",
           "is_offline", "is_quick", "quick_or_full", "seed_everything", "set_budget"]
