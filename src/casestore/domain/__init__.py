"""The case record as pure domain logic: no I/O, time passed in by the caller."""
