"""`serve`: the read side of the Tekton Results v1alpha2 REST API over the store."""

DEFAULT_LISTEN = "127.0.0.1:8080"  # here, not in server.py: `--help` names it without importing the HTTP stack
