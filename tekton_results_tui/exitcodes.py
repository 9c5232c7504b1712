"""The program's exit codes, in one place (the CLI, the modes and every subcommand return these).

| code | name        | meaning                                                                        |
|------|-------------|--------------------------------------------------------------------------------|
| 0    | OK          | done as asked                                                                  |
| 1    | PARTIAL     | done, but some of it was not (objects skipped on import, runs not deleted, no logs) |
| 2    | USAGE       | nothing done: a user's mistake or a failure they can act on, said in one line  |
|      |             | (bad flag/filter/file/URL, cluster unreachable, another watcher owns the DB)   |
| 3    | CRASH       | a bug: the TUI restored the terminal, printed one line and the log's path      |
| 130  | INTERRUPTED | Ctrl-C (128 + SIGINT, as shells report it)                                     |
"""

from __future__ import annotations

OK = 0
PARTIAL = 1
USAGE = 2
CRASH = 3
INTERRUPTED = 130
