"""``python -m api.cli``: the ``jixiao`` command line."""

import sys

from api.cli.main import main

sys.exit(main())
