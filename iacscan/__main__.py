from iacscan.cli import main

raise SystemExit(main())
