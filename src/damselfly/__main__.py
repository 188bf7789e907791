"""`python -m damselfly` runs the server exactly like the `damselfly` console script."""

import sys

from damselfly.cli import main

sys.exit(main())
