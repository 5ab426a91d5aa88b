"""casestore: one event-sourced case record per person in the levensloopaanpak."""
