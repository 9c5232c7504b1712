"""Screens of the TUI (help, ...)."""
