"""`python -m kgan.cli`: the `kgan` command, for an environment without its console script."""

import sys

from kgan.cli import main

sys.exit(main())
