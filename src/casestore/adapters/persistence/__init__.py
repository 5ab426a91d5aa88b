"""Storage on SQLite (the embedded default) or PostgreSQL.

backend.py           what differs between the two databases, behind one `Backend` object
recorder.py          what the services need of an event recorder beyond the library's
sqlite.py            the SQLite backend and recorder
postgres.py          the PostgreSQL backend and recorder (one save is one statement)
sharing_tables.py    grants, access, event ids and escrows, case keys: written with events
client_table.py      API clients (token hashes)
subscription_table.py webhook subscriptions and their delivery attempts
grant_history.py     every grant given or taken after its event was written, and why
timeline_reads.py    what changed in a case since a process folded its timeline
housekeeping_table.py scheduled jobs: when each last ran, which worker holds it
rows.py              rows as dataclasses; columns and the one time form in storage
"""
