import sys

from tools.monitor.cli import main

sys.exit(main())
