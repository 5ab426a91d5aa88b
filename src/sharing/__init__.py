"""Policy-bound sharing of sensitive records between organisations.

This package knows organisations, keys, policies and sealed fields; it knows nothing of
cases. Callers hand it opaque identifiers and field values and get sealed envelopes back.
"""
