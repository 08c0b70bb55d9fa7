from configgen.cli import main

raise SystemExit(main())
