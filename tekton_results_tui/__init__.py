"""tekton-results-tui: Tekton run history kept outside the cluster, explored from a terminal."""

__version__ = "0.1.0"
