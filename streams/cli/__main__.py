"""`python -m streams.cli`: the `breach` command, as `breach up` and the tests start it."""

import sys

from streams.cli import main

sys.exit(main())
