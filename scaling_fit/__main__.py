"""``python -m scaling_fit``: the ``scaling-fit`` command line."""

from .cli import main

raise SystemExit(main())
