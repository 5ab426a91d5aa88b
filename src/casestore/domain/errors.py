"""Every error the case record raises, drawn once as a tree.

    CaseStoreError
    ├── PayloadInvalid              a payload does not fit its schema (names each field)
    ├── UnknownEventType            no such event type in the catalogue
    ├── InvalidBsn                  not nine digits or fails the elfproef
    ├── ProcessViolation            the levensloop process forbids this event now
    │   ├── OpeningEventRequired / CaseAlreadyOpened
    │   ├── CaseClosed              nothing may follow the end of a case
    │   ├── TriageRequired / AlreadyTriaged / MinorClaimedAdult   meerderjarig by the birth date
    │   ├── InclusionRequired / AlreadyDecided
    │   ├── LevelNotHigher / LevelNotLower
    │   ├── PlanVersionOutOfOrder
    │   ├── AlreadyInNetwork / NotInNetwork / RegisseurMustStay
    │   ├── QuestionNotOpen / NotAsked / AlreadyAsked / AskedAfterTriage
    │   ├── NotRoleHolder           a regiewijziging names the wrong current holder
    │   ├── ActionNotInPlan / NotActionOwner
    │   ├── UnknownSignalering      a reactie answers a signalering the case does not have
    │   ├── UitstroomRequired / NazorgRequired / CannotReopen
│   ├── NotStableLongEnough     an uitstroom as stabiel within the region's stability term
    │   ├── NotLevensloopaanbieder / UnknownCasusoverleg   who scales the care level
    │   ├── AuthorNotInNetwork      only network members write to a case
    │   ├── EventToCorrectNotFound / NotCorrectable / AlreadyCorrected   a correctie
    │   ├── ObjectionNotPending     a decision on a bezwaar that is not in behandeling
    │   ├── NoBeperkingToLift       lifting a beperking the case lacks or lifted already
    │   └── OccurredBeforeOpening
    ├── AuthorNotPermitted          the policy does not let this organisation write that type
    │   ├── RegieRequired           the regie of the case alone writes it
    │   └── CorrectionByOthers      a correctie is its author's (or the custodian's on request)
    ├── PersonHasOpenCase           a second aanmelding while the person's case is open
    ├── CaseNotFound                also what an organisation that never saw the case is told
    │   └── EventNotFound
    ├── NotHosted                   the service holds no private key to open fields with
    ├── ViewNotAllowed              the caller may not see a case as another organisation does
    ├── CaseStillOpen               shredding waits until the case has ended
    ├── CaseHeld                    a legal hold keeps the case from being destroyed
    ├── VersionConflict             expected version is not the current version
    ├── IdempotencyConflict         a retried event id came back with other content
    └── CaseBusy                    concurrent writers kept winning: nothing written, try later

Messages are safe to show to the caller: they name fields, versions and case ids, never
payload content.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class CaseStoreError(Exception):
    """Root of all case record errors."""


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one field of a payload; `field` is a dotted path."""

    field: str
    message: str


class PayloadInvalid(CaseStoreError):
    def __init__(self, event_type: str, problems: Sequence[FieldProblem]) -> None:
        self.event_type = event_type
        self.problems = tuple(problems)
        listed = "; ".join(f"{p.field}: {p.message}" for p in self.problems)
        super().__init__(f"invalid {event_type} payload: {listed}")


class UnknownEventType(CaseStoreError):
    def __init__(self, event_type: str) -> None:
        self.event_type = event_type
        super().__init__(f"unknown event type {event_type!r}")


class InvalidBsn(CaseStoreError):
    def __init__(self) -> None:
        # Never echo the value: a near-miss BSN is still personal data.
        super().__init__("bsn: must be 9 digits that pass the elfproef")


class ProcessViolation(CaseStoreError):
    """The event is well formed but the process does not allow it in this state."""


class OpeningEventRequired(ProcessViolation):
    def __init__(self, event_type: str) -> None:
        super().__init__(f"a case is opened by an aanmelding, not by {event_type}")


class CaseAlreadyOpened(ProcessViolation):
    def __init__(self) -> None:
        super().__init__("an aanmelding only opens a new case")


class CaseClosed(ProcessViolation):
    def __init__(self, event_type: str, status: str) -> None:
        super().__init__(f"the case is {status}: no {event_type} may follow")


class TriageRequired(ProcessViolation):
    def __init__(self) -> None:
        super().__init__(
            "an inclusiebesluit needs a triagebesluit that refers to the inclusietafel"
        )


class AlreadyTriaged(ProcessViolation):
    def __init__(self) -> None:
        super().__init__("the case has a triagebesluit already")


class MinorClaimedAdult(ProcessViolation):
    def __init__(self, adult_on: str) -> None:
        super().__init__(
            f"the birth date of the aanmelding says the person is 18 only on {adult_on}: "
            "the criterion meerderjarig is not met"
        )


class InclusionRequired(ProcessViolation):
    def __init__(self, event_type: str) -> None:
        super().__init__(f"a {event_type} needs a positive inclusiebesluit first")


class AlreadyDecided(ProcessViolation):
    def __init__(self) -> None:
        super().__init__("the case has an inclusiebesluit already")


class LevelNotHigher(ProcessViolation):
    def __init__(self, current: int, requested: int) -> None:
        super().__init__(f"opschaling goes up: level {requested} is not above {current}")


class LevelNotLower(ProcessViolation):
    def __init__(self, current: int, requested: int) -> None:
        super().__init__(f"afschaling goes down: level {requested} is not below {current}")


class PlanVersionOutOfOrder(ProcessViolation):
    def __init__(self, expected: int, given: int) -> None:
        super().__init__(f"planversie must be {expected}, not {given}")


class AlreadyInNetwork(ProcessViolation):
    def __init__(self, organisation: str) -> None:
        super().__init__(f"{organisation} is in the case network already")


class NotInNetwork(ProcessViolation):
    def __init__(self, organisation: str) -> None:
        super().__init__(f"{organisation} is not in the case network")


class RegisseurMustStay(ProcessViolation):
    def __init__(self, organisation: str) -> None:
        super().__init__(
            f"{organisation} holds a regie or levensloop role and cannot leave the network"
        )


class ConditionNotFound(ProcessViolation):
    def __init__(self, kind: str, record: str) -> None:
        super().__init__(f"the case has no {kind} {record}")


class ConditionWithdrawn(ProcessViolation):
    def __init__(self, record: str) -> None:
        super().__init__(f"toestemming {record} was withdrawn already")


class AskedAfterTriage(ProcessViolation):
    def __init__(self) -> None:
        super().__init__("a bekendheidsvraag is asked between aanmelding and triage")


class AlreadyAsked(ProcessViolation):
    def __init__(self, organisation: str) -> None:
        super().__init__(f"{organisation} has an open bekendheidsvraag already")


class QuestionNotOpen(ProcessViolation):
    def __init__(self, question: str) -> None:
        super().__init__(f"no open bekendheidsvraag {question} in this case")


class NotAsked(ProcessViolation):
    def __init__(self, organisation: str, question: str) -> None:
        self.organisation = organisation
        super().__init__(f"bekendheidsvraag {question} was not asked of {organisation}")


class NotRoleHolder(ProcessViolation):
    def __init__(self, role: str, organisation: str, holder: str | None) -> None:
        super().__init__(f"{organisation} does not hold {role} (held by {holder or 'no one'})")


class ActionNotInPlan(ProcessViolation):
    def __init__(self, plan_version: int, action: int) -> None:
        super().__init__(f"plan version {plan_version} in force has no action {action}")


class NotActionOwner(ProcessViolation):
    def __init__(self, organisation: str, action: int) -> None:
        super().__init__(f"action {action} of the plan is not owned by {organisation}")


class UnknownSignalering(ProcessViolation):
    def __init__(self, event_id: str) -> None:
        super().__init__(f"no signalering {event_id} in this case")


class NotStableLongEnough(ProcessViolation):
    def __init__(self, months: int | None, stable_since: str) -> None:
        term = (
            "the region knows no stability term"
            if months is None
            else (f"the region's stability term is {months} months")
        )
        super().__init__(
            f"an uitstroom as stabiel needs a stable case: {term}, and the case is stable "
            f"since {stable_since}"
        )


class UitstroomRequired(ProcessViolation):
    def __init__(self, event_type: str) -> None:
        super().__init__(f"a {event_type} follows an uitstroom")


class NazorgRequired(ProcessViolation):
    def __init__(self) -> None:
        super().__init__("a heraanmelding within the case needs a nazorg period first")


class NotLevensloopaanbieder(ProcessViolation):
    def __init__(self, organisation: str, event_type: str) -> None:
        super().__init__(
            f"{organisation} is not the levensloopaanbieder: a {event_type} by another "
            "partner names the casusoverleg that decided it"
        )


class UnknownCasusoverleg(ProcessViolation):
    def __init__(self, event_id: str) -> None:
        super().__init__(f"no casusoverleg {event_id} in this case")


class CannotReopen(ProcessViolation):
    def __init__(self) -> None:
        super().__init__("this case cannot be reopened: refer the person by a new aanmelding")


class OccurredBeforeOpening(ProcessViolation):
    def __init__(self) -> None:
        super().__init__("occurred_at lies before the aanmelding that opened the case")


class AuthorNotInNetwork(ProcessViolation):
    def __init__(self, organisation: str) -> None:
        self.organisation = organisation
        super().__init__(f"{organisation} is not in the case network and cannot write to it")


class AuthorNotPermitted(CaseStoreError):
    def __init__(self, organisation: str, event_type: str) -> None:
        self.organisation = organisation
        self.event_type = event_type
        super().__init__(f"the policy does not let {organisation} write a {event_type}")


class CorrectionByOthers(AuthorNotPermitted):
    """An event is corrected by the organisation that wrote it; the custodian corrects it
    only on the person's request, which the correctie then says."""

    def __init__(self, organisation: str, target_author: str, custodian: str) -> None:
        super().__init__(organisation, "correctie")
        self.args = (
            f"only {target_author}, which wrote the event, corrects it"
            f" ({custodian} on the person's request)",
        )


class EventToCorrectNotFound(ProcessViolation):
    def __init__(self, event_id: str) -> None:
        super().__init__(f"the case has no event {event_id} to correct")


class NotCorrectable(ProcessViolation):
    def __init__(self, event_id: str, fields: Sequence[str]) -> None:
        super().__init__(f"event {event_id} has no content field {', '.join(fields)} to correct")


class AlreadyCorrected(ProcessViolation):
    def __init__(self, event_id: str, fields: Sequence[str], by: str) -> None:
        super().__init__(
            f"{', '.join(fields)} of event {event_id} was corrected already by {by}:"
            " correct that correctie instead"
        )


class ObjectionNotPending(ProcessViolation):
    def __init__(self, event_id: str) -> None:
        super().__init__(f"the case has no bezwaar {event_id} in behandeling to decide")


class NoBeperkingToLift(ProcessViolation):
    def __init__(self, event_id: str) -> None:
        super().__init__(f"the case has no beperking {event_id} that is not lifted yet")


class RegieRequired(AuthorNotPermitted):
    """Some decisions belong to the regie of the case alone, whatever roles the policy
    lets write them."""

    def __init__(self, organisation: str, event_type: str, regie: str) -> None:
        super().__init__(organisation, event_type)
        self.args = (
            f"only {regie}, which holds the procesregie of the case, writes a {event_type}",
        )


class PersonHasOpenCase(CaseStoreError):
    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(f"this person already has an open case: {case_id}")


class CaseStillOpen(CaseStoreError):
    def __init__(self, case_id: str) -> None:
        super().__init__(f"case {case_id} is still open; only a closed case can be shredded")


class CaseHeld(CaseStoreError):
    def __init__(self, case_id: str) -> None:
        super().__init__(f"case {case_id} is under a legal hold; release it first")


class CaseNotFound(CaseStoreError):
    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(f"no case {case_id}")


class EventNotFound(CaseNotFound):
    def __init__(self, case_id: str, event_id: str) -> None:
        super().__init__(case_id)
        self.args = (f"no event {event_id} in case {case_id}",)


class NotHosted(CaseStoreError):
    def __init__(self, organisation: str) -> None:
        super().__init__(
            f"{organisation} is not hosted by this service: open the sealed fields with "
            "your own private key (sharing.client or `casestore decrypt`)"
        )


class ViewNotAllowed(CaseStoreError):
    """A timeline as another organisation sees it is for the custodian's coordinators and
    privacy officers (and a privacy officer for its own organisation), never a partner
    system."""


class VersionConflict(CaseStoreError):
    def __init__(self, expected: int, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"expected version {expected}, but the case is at version {actual}")


class IdempotencyConflict(CaseStoreError):
    def __init__(self, event_id: str) -> None:
        self.event_id = event_id
        super().__init__(f"event {event_id} was recorded before with other content")


class CaseBusy(CaseStoreError):
    """Other writers kept taking the next version for longer than the store waits.

    Only a writer that named no expected version meets this: the store retries such an
    append itself, so losing a race is never the caller's conflict; past the bound it
    asks the caller to come back instead of waiting on."""

    def __init__(self, case_id: str, waited: float, retry_after: int = 1) -> None:
        self.case_id = case_id
        self.retry_after = retry_after
        super().__init__(
            f"case {case_id} is busy: concurrent writes kept winning for {waited:.1f} s; "
            "nothing was recorded, try again"
        )
