"""``python -m numkeras``: the ``numkeras`` command line (see ``numkeras.cli``)."""

import sys

from numkeras.cli import main

if __name__ == "__main__":
    sys.exit(main())
