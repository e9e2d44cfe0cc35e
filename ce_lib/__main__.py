"""``python -m ce_lib scoreboard [--chapter NAME] [--json] [--seeds N]``."""

import sys

from .scoreboard import main

if __name__ == "__main__":
    sys.exit(main())
