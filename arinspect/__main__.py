"""`python -m arinspect` runs the command line."""

from arinspect.cli import main

raise SystemExit(main())
