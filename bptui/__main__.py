import sys

from bptui.cli import main

sys.exit(main())
