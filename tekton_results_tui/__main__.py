from tekton_results_tui.cli import main

raise SystemExit(main())
