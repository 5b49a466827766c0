import sys

from publishers.cli import main

sys.exit(main())
