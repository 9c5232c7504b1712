from tekton_results_tui.cli import main

if __name__ == "__main__":  # not when a spawned child (the import's reader process) imports this module
    raise SystemExit(main())
