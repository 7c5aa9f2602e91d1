import sys

from fedipub.cli import main

sys.exit(main())
