import sys

from brookmq.cli.main import main

sys.exit(main())
