"""`python -m intentdesk` behaves exactly like the `intentdesk` console script."""

from intentdesk.entry import main

raise SystemExit(main())
