"""Sealing case events for exactly the organisations the policy grants, and reading back.

At write time every content field becomes ciphertext under a fresh data key (via
`sharing.envelope`), granted to the organisations `AccessMatrix.recipients` names for the
case's network and escrowed under the case key. A field whose entries are owned by
organisations (the plan's actions) is sealed per owner, so a grant limited to "own
entries" reaches only that owner's part. The event keeps the ciphertexts; the grants,
escrows and per-organisation access rows go to the sharing tables in the same
transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from casestore.keyring import Keyring
from casestore.lru import Lru
from casestore.persistence.side_tables import (
    AccessRow,
    CaseKeyRow,
    EscrowRow,
    GrantRow,
    SideRows,
)
from casestore.provenance import STORED, SUBMISSION
from sharing.canonical import b64decode, b64encode, canonical_json
from sharing.envelope import (
    Escrow,
    EventContext,
    Grant,
    SealedField,
    new_case_key,
    open_field,
    regrant,
    seal_event,
    unwrap_case_key,
    wrap_case_key,
)
from sharing.errors import CaseKeyDestroyed, SignatureInvalid
from sharing.keys import MasterKey, Recipient, format_time
from sharing.policy import AccessMatrix, Decision, Scope
from sharing.signing import Signature, sign, verify

PART = "/"  # an owned field's part for one owner is sealed as "<field>/<owner>"
CASE_KEY_CACHE = 1024


@dataclass(frozen=True)
class Sealed:
    content: dict[str, Any]  # what the event stores: sealed field name -> SealedField JSON
    rows: SideRows


class Sharing:
    """The policy, the keys and the envelope format, composed for the case record."""

    def __init__(
        self,
        *,
        region: str,
        custodian: str,
        matrix: AccessMatrix,
        policy_version: str,
        keyring: Keyring,
        master: MasterKey,
        owned_fields: Mapping[str, Mapping[str, str]],
    ) -> None:
        self.region = region
        self.custodian = custodian
        self.matrix = matrix
        self.policy_version = policy_version
        self.keyring = keyring
        self._master = master
        self._owned = owned_fields
        self._case_keys: Lru[str, bytes] = Lru(CASE_KEY_CACHE)

    def use_policy(self, matrix: AccessMatrix, version: str) -> None:
        self.matrix = matrix
        self.policy_version = version

    # ---- case keys ------------------------------------------------------------------------

    def new_case_key(self, case_id: str, now: datetime) -> tuple[bytes, CaseKeyRow]:
        key = new_case_key()
        wrapped = wrap_case_key(self._master, self.region, case_id, key)
        self._remember(case_id, key)
        return key, CaseKeyRow(case_id, b64encode(wrapped), format_time(now))

    def cached_case_key(self, case_id: str) -> bytes | None:
        """A recently used case key, sparing a read and an unwrap per event."""
        return self._case_keys.get(case_id)

    def case_key(self, case_id: str, wrapped: str | None, known: bool) -> bytes:
        """The unwrapped case key; CaseKeyDestroyed once the case was shredded."""
        if not known or wrapped is None:
            raise CaseKeyDestroyed(f"case {case_id} has no case key")
        key = unwrap_case_key(self._master, self.region, case_id, b64decode(wrapped))
        self._remember(case_id, key)
        return key

    def forget_case_key(self, case_id: str) -> None:
        self._case_keys.pop(case_id)

    def _remember(self, case_id: str, key: bytes) -> None:
        self._case_keys.put(case_id, key)

    # ---- sealing ---------------------------------------------------------------------------

    def seal(
        self,
        *,
        case_id: str,
        version: int,
        event_id: str,
        event_type: str,
        author: str,
        network: Iterable[str],
        content: Mapping[str, Any],
        case_key: bytes,
        now: datetime,
    ) -> Sealed:
        members = frozenset(network)
        recipients = self.matrix.recipients(event_type, members, now, author=author)
        plaintexts = self.plaintexts(event_type, content)
        readers = {name: self.readers(name, recipients.fields) for name in plaintexts}
        keys = {org: self.keyring.recipient(org, now) for org in recipients.envelope}
        recipients_by_field = {
            name: [k for org in sorted(orgs) if (k := keys.get(org)) is not None]
            for name, orgs in readers.items()
        }
        context = EventContext(self.region, case_id, event_id, event_type)
        sealed = seal_event(context, plaintexts, recipients_by_field, case_key)
        decisions = {
            org: self.matrix.decide(org, event_type, members, now, author=author)
            for org in {grant.org_id for grant in sealed.grants}
        }
        rows = SideRows(
            grants=[
                self.grant_row(case_id, version, event_id, grant, decisions[grant.org_id])
                for grant in sealed.grants
            ],
            escrows=[
                EscrowRow(case_id, event_id, name, json.dumps(escrow.to_json()))
                for name, escrow in sealed.escrows.items()
            ],
            access=[
                AccessRow(org, case_id, version, event_id, self.policy_version)
                for org in sorted(recipients.envelope)
            ],
        )
        stored = {name: field.to_json() for name, field in sealed.fields.items()}
        return Sealed(stored, rows)

    def plaintexts(self, event_type: str, content: Mapping[str, Any]) -> dict[str, bytes]:
        """Canonical JSON per sealed field; owned fields split into one part per owner."""
        owned = self._owned.get(event_type, {})
        result: dict[str, bytes] = {}
        for name, value in content.items():
            owner_key = owned.get(name)
            if owner_key is None:
                result[name] = canonical_json(value)
                continue
            parts: dict[str, list[Any]] = {}
            for index, entry in enumerate(value or []):
                parts.setdefault(str(entry[owner_key]), []).append([index, entry])
            for owner, entries in sorted(parts.items()):
                result[f"{name}{PART}{owner}"] = canonical_json(entries)
        return result

    def readers(self, sealed_name: str, fields: Mapping[str, Mapping[str, Scope]]) -> set[str]:
        """Who may open one sealed field (or one owner's part of an owned field)."""
        name, _, owner = sealed_name.partition(PART)
        granted = fields.get(name, {})
        if not owner:
            return set(granted)
        return {org for org, scope in granted.items() if scope is Scope.all or org == owner}

    def grant_row(
        self, case_id: str, version: int, event_id: str, grant: Grant, decision: Decision
    ) -> GrantRow:
        """The stored grant with the rules and grounds that granted it (or authorship)."""
        access = decision.fields.get(grant.field.partition(PART)[0])
        rules = list(access.rules) if access else []
        if access is not None and access.as_author:
            rules.append("author")
        return GrantRow(
            case_id,
            version,
            event_id,
            grant.field,
            grant.org_id,
            grant.key_id,
            json.dumps(grant.to_json()),
            self.policy_version,
            ",".join(rules),
            ",".join(access.grounds) if access else "",
        )

    def regrant(
        self,
        *,
        context: EventContext,
        field: str,
        escrow: Escrow,
        case_key: bytes,
        recipient: Recipient,
    ) -> Grant:
        return regrant(escrow, context.field(field), case_key, recipient)

    # ---- provenance -----------------------------------------------------------------------

    def authenticate(
        self, document: dict[str, Any], signature: dict[str, Any] | None, author: str, now: datetime
    ) -> dict[str, Any] | None:
        """The author's verified signature; hosted authors are signed for by the service.

        Returns None only for an unsigned submission by a partner the service does not
        host; the caller decides whether that is allowed.
        """
        if signature is None:
            if author in self.keyring.hosted:
                key = self.keyring.signing_key(author)
                return sign(document, key, purpose=SUBMISSION).to_json()
            return None
        parsed = Signature.from_json(signature)
        if parsed.org_id != author:
            raise SignatureInvalid()
        verify(document, parsed, self.keyring.records(), purpose=SUBMISSION, at=now)
        return parsed.to_json()

    def countersign(self, stored: dict[str, Any]) -> dict[str, Any]:
        return sign(stored, self.keyring.signing_key(self.custodian), purpose=STORED).to_json()

    # ---- opening (hosted organisations only) --------------------------------------------------

    def open(
        self,
        org_id: str,
        context: EventContext,
        sealed: Mapping[str, Mapping[str, Any]],
        grants: Sequence[Grant],
    ) -> dict[str, Any]:
        """Decrypt what a hosted organisation was granted and reassemble owned fields."""
        key = self.keyring.decryption_key(org_id)
        values: dict[str, Any] = {}
        owned_parts: dict[str, list[Any]] = {}
        for grant in grants:
            if (grant.org_id, grant.key_id) != (key.org_id, key.key_id):
                continue
            plaintext = open_field(
                SealedField.from_json(sealed[grant.field]),
                grant,
                context.field(grant.field),
                key,
            )
            value = json.loads(plaintext)
            name, _, owner = grant.field.partition(PART)
            if owner:
                owned_parts.setdefault(name, []).extend(value)
            else:
                values[name] = value
        for name, parts in owned_parts.items():
            values[name] = [entry for _, entry in sorted(parts, key=lambda p: int(p[0]))]
        return values
