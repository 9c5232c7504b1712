"""The Textual user interface. Reads via the store, acts via the watcher service."""
