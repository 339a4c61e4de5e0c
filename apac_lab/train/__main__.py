"""``python -m apac_lab.train``: see :mod:`apac_lab.train.cli`."""

from apac_lab.train.cli import main

raise SystemExit(main())
