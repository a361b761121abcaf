"""``python -m scaling_fit``: the ``scaling-fit`` command line."""

from .cli.main import main

raise SystemExit(main())
