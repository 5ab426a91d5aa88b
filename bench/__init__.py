"""`make bench`: how fast the case record writes and loads, on PostgreSQL and SQLite.

Not a test: it asserts nothing, it measures and prints (and writes var/bench/latest.json).
`python -m bench.profile` splits one `CaseStore.append` into its layers and phases.
"""
