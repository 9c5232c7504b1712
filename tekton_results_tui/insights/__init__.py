"""Answers from the history: statistics per group, flaky runs and tasks, a run's timeline, ETAs.

Pure functions over what store/insights_reads.py and the store API read; no Textual, no Kubernetes,
no SQL here. The CLI (`stats`, `timeline`) and the TUI show what these return.
"""
