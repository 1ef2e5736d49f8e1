"""`python -m koe.voice`: the same as the `koe` command."""

import sys

from koe.voice.cli import main

sys.exit(main())
