"""`python -m intentdesk` behaves exactly like the `intentdesk` console script."""

from intentdesk.cli import main

raise SystemExit(main())
