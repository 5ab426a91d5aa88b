"""The refusals of the policy workspace: a proposal that cannot be made or decided, and a
re-seal job another worker holds. Each carries the HTTP status it is answered with, so
the API, the pages and the CLI say the same thing."""

from __future__ import annotations


class ProposalError(Exception):
    """A proposal cannot be made or decided; the message is safe to show."""

    status = 422


class NotFound(ProposalError):
    status = 404


class StaleBase(ProposalError):
    status = 409


class AlreadyDecided(ProposalError):
    status = 409


class FourEyes(ProposalError):
    status = 403
