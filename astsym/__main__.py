"""``python -m astsym``: the ``astsym`` command line."""

from astsym.cli import main

raise SystemExit(main())
