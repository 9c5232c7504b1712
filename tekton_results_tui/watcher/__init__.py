"""Kubernetes -> store: informers, the writer, cleanup. Imports no textual."""
