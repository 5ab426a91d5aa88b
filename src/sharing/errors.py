"""Every error the sharing layer raises, drawn once as a tree.

    SharingError
    ├── PolicyError                 a policy file or rule is invalid (names file, line, rule)
    ├── UnknownOrganisation         an organisation id the policy does not list
    ├── KeyNotFound                 no (current) key with that id for that organisation
    ├── InvalidKey                  key material is malformed or of the wrong kind
    ├── DecryptionFailed            one opaque error for every failure to open or verify
    ├── SignatureInvalid            an author's signature does not verify
    ├── ProvenanceInvalid           who wrote or stored a received event cannot be verified
    └── CaseKeyDestroyed            the case was shredded; nothing can be opened again

Decryption failures deliberately carry no detail: telling a caller *why* a ciphertext did
not open (wrong key, moved field, flipped byte) helps an attacker and never a user. A
provenance failure does say why (which signature, which field), because it names nothing
but what the reader was sent or opened, and the reader has to act on it.
"""

from __future__ import annotations


class SharingError(Exception):
    """Root of all sharing errors."""


class PolicyError(SharingError):
    """A policy document is invalid; the message names the file, line or rule.

    `problems` holds each problem on a line of its own when a document has several."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems or (message,)


class UnknownOrganisation(SharingError):
    """An organisation id that the policy does not list."""


class KeyNotFound(SharingError):
    """No key with the requested id is known for the organisation."""


class InvalidKey(SharingError):
    """Key material is malformed or of the wrong kind."""


class DecryptionFailed(SharingError):
    """A sealed value could not be opened. Deliberately opaque."""

    def __init__(self) -> None:
        super().__init__("decryption failed")


class SignatureInvalid(SharingError):
    """A signature did not verify. Deliberately opaque."""

    def __init__(self) -> None:
        super().__init__("signature verification failed")


class ProvenanceInvalid(SharingError):
    """A received event, or the key directory, does not verify; the message says why."""


class CaseKeyDestroyed(SharingError):
    """The case key was destroyed (shredded); its content can never be opened again."""
