"""Sources of changes other than a Kubernetes watcher: they feed the same store API (`History.apply`).

- wire.py     Tekton Results v1alpha2 REST shapes, read in both JSON spellings (proto names, camelCase)
- client.py   the HTTP client of a Results API server (paged lists, log content), with one retry policy
- cursor.py   where a sync stands (the update_time it reached), kept in the history's named values
- records.py  Records -> store changes: runs byte-identical, Log content as step logs, EventLists as events
- sync.py     a sync pass (incremental, resumable) and `follow` (poll for changes)
"""
