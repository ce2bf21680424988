from tdm_desktop.cli import main

raise SystemExit(main())
