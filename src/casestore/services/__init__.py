"""Use cases: the write path and history, what each organisation receives, grants and
shredding, sealing and provenance, API clients and webhook subscriptions.

Services compose the pure domain model with `sharing` and with the adapters they are
given; they never build an adapter themselves (bootstrap.py does).
"""
