"""``python -m blackout_ext``: see :mod:`blackout_ext.cli`."""
import sys

from blackout_ext.cli import main

sys.exit(main())
