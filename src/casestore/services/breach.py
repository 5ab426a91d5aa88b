"""What a breach exposed, and the draft of its notification (AVG art. 33 and 34).

Three starting points, each what an incident report usually knows first:

- an organisation's key generation leaked: everything ever sealed to that key — the
  grants it holds now, and those it held and lost (the grant history names the key; the
  ciphertext it could open may be kept elsewhere);
- a client's token stolen: everything that client read, fetched or was delivered;
- a time window (of one organisation, or all): everything provided in it.

The exposure is counted in persons (pseudonymous ids), cases and fields, split by the
special categories the region's policy states (AVG art. 9 health, art. 10 criminal; a
header that reveals a category counts for every event of its type). The notification is
a draft in Dutch for the privacy officer to complete: the facts the trail holds are
filled in, the rest is marked for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from casestore.adapters.persistence.rows import stamp
from casestore.domain.catalogue import describe
from casestore.services.audit import (
    AUDIT_BLAST_RADIUS,
    CASE_DECRYPTED,
    CASE_READ,
    FEED_READ,
    GRANT_CREATED,
    STREAM_DELIVERED,
    WEBHOOK_DELIVERED,
    AuditTrail,
)
from casestore.services.case_store import CaseStore
from casestore.services.grants import Grants
from casestore.services.trail_facts import TrailFacts
from sharing.owned import field_of
from sharing.policy import catalogue_from_description
from sharing.policy.special import Special, categories_of, special_data

PROVIDED = {
    GRANT_CREATED,
    CASE_READ,
    CASE_DECRYPTED,
    FEED_READ,
    STREAM_DELIVERED,
    WEBHOOK_DELIVERED,
}
READ_BY_CLIENT = {CASE_READ, CASE_DECRYPTED, FEED_READ, STREAM_DELIVERED}
ORDINARY = "gewoon"
CATEGORY_NAMES = {"health": "gezondheid (AVG art. 9)", "criminal": "strafrechtelijk (AVG art. 10)"}


class BreachError(Exception):
    """The starting point names nothing this service knows."""


@dataclass(frozen=True)
class Exposure:
    """One event's fields that reached (or could reach) the wrong hands."""

    case: str
    event_id: str
    receiver: str
    fields: frozenset[str]


@dataclass
class _Tally:
    persons: set[str] = field(default_factory=set)
    cases: set[str] = field(default_factory=set)
    data: set[str] = field(default_factory=set)


class BlastRadius:
    def __init__(self, store: CaseStore, grants: Grants, trail: AuditTrail) -> None:
        self.store = store
        self.grants = grants
        self.trail = trail
        self.catalogue = catalogue_from_description(describe())

    def of_key(self, organisation: str, generation: int) -> dict[str, Any]:
        generations = self.store.sealer.keyring.generations(organisation)
        key_id = next(
            (
                g.enc_key_id
                for number, g in enumerate(generations, start=1)
                if (g.generation or number) == generation
            ),
            None,
        )
        if key_id is None:
            raise BreachError(f"{organisation} has no key generation {generation}")
        facts = TrailFacts(self.store, self.trail)
        tables = self.store.records.tables
        exposures: list[Exposure] = []
        for case_id in tables.case_ids():
            for g in tables.grants_of_case(case_id):
                if g.key_id == key_id:
                    exposures.append(
                        Exposure(case_id, g.event_id, organisation, frozenset(g.fields))
                    )
            for change in self.grants.history(UUID(case_id)):
                if change.key_id == key_id:
                    granted = facts.granted.get((organisation, change.event_id))
                    fields = granted.fields if granted else set()
                    exposures.append(
                        Exposure(case_id, change.event_id, organisation, frozenset(fields))
                    )
        what = f"sleutelgeneratie {generation} van {organisation} ({key_id})"
        return self._report(
            {"sleutel": key_id, "organisatie": organisation}, what, facts, exposures
        )

    def of_client(self, client_id: str) -> dict[str, Any]:
        facts = TrailFacts(self.store, self.trail)
        exposures = [
            Exposure(
                e["case"],
                ev,
                str(e.get("receiver") or e.get("organisation")),
                frozenset(facts.opened(e, ev)),
            )
            for e in facts.entries
            if e["action"] in READ_BY_CLIENT and e.get("client") == client_id and e["case"]
            for ev in e["events"]
        ]
        return self._report(
            {"client": client_id}, f"het token van client {client_id}", facts, exposures
        )

    def of_window(
        self, since: datetime, until: datetime, organisation: str | None = None
    ) -> dict[str, Any]:
        facts = TrailFacts(self.store, self.trail, since=since, until=until)
        exposures = [
            Exposure(e["case"], ev, receiver, frozenset(facts.opened(e, ev)))
            for e in facts.entries
            if e["action"] in PROVIDED
            and e["case"]
            and (receiver := str(e.get("receiver") or e.get("organisation")))
            and (organisation is None or receiver == organisation)
            for ev in e["events"]
        ]
        who = f" bij {organisation}" if organisation else ""
        what = f"de periode {stamp(since)} tot {stamp(until)}{who}"
        return self._report(
            {"van": stamp(since), "tot": stamp(until), "organisatie": organisation},
            what,
            facts,
            exposures,
        )

    # ---- the report ----------------------------------------------------------------------

    def _report(
        self, start: dict[str, Any], what: str, facts: TrailFacts, exposures: list[Exposure]
    ) -> dict[str, Any]:
        special = special_data(self.store.sealer.matrix.policy, self.catalogue)
        tallies: dict[str, _Tally] = {}
        everything = _Tally()
        receivers: set[str] = set()
        for x in exposures:
            event_type = facts.event_type(x.event_id) or "onbekend"
            person = facts.person_of_case.get(x.case, f"zaak:{x.case}")
            names = {field_of(f)[0] for f in x.fields}
            receivers.add(x.receiver)
            for category, data in _categorised(special, event_type, names).items():
                tally = tallies.setdefault(category, _Tally())
                tally.persons.add(person)
                tally.cases.add(x.case)
                tally.data.update(data)
            everything.persons.add(person)
            everything.cases.add(x.case)
            everything.data.update(f"{event_type}.{n}" for n in names)
        per_category = {
            CATEGORY_NAMES.get(c, c): {
                "personen": len(t.persons),
                "zaken": len(t.cases),
                "gegevens": sorted(t.data),
            }
            for c, t in sorted(tallies.items())
        }
        document = {
            "uitgangspunt": start,
            "opgesteld_op": stamp(self.trail.clock()),
            "personen": len(everything.persons),
            "zaken": sorted(everything.cases),
            "ontvangers": sorted(receivers),
            "gegevens": sorted(everything.data),
            "per_categorie": per_category,
        }
        document["concept_melding_ap"] = _notification(what, document)
        document["concept_bericht_betrokkenen"] = _message(document)
        self.trail.record(
            [
                self.trail.entry(
                    AUDIT_BLAST_RADIUS,
                    reason=f"{what}: {len(everything.persons)} personen, "
                    f"{len(everything.cases)} zaken",
                )
            ]
        )
        return document


def _categorised(
    special: Mapping[str, Special], event_type: str, names: Iterable[str]
) -> dict[str, set[str]]:
    """Per category (or `gewoon`), what of one event falls under it."""
    found: dict[str, set[str]] = {}
    names = sorted(names)
    for what, categories in categories_of(special, [event_type], names).items():
        for category in categories:
            found.setdefault(str(category), set()).add(what)
    plain = [
        n for n in names if not special.get(event_type, Special(frozenset(), {})).fields.get(n)
    ]
    if plain or not found:
        found.setdefault(ORDINARY, set()).update(f"{event_type}.{n}" for n in plain)
    return found


TODO = "[in te vullen door de functionaris gegevensbescherming]"


def _notification(what: str, d: dict[str, Any]) -> str:
    categories = "\n".join(
        f"  - {name}: {c['personen']} personen, {c['zaken']} zaken"
        for name, c in d["per_categorie"].items()
    )
    return f"""CONCEPT — melding datalek aan de Autoriteit Persoonsgegevens (AVG art. 33)

Aard van de inbreuk: onbevoegde toegang tot of verlies van {what}. {TODO}
Ontdekt op: {TODO}
Betrokken personen: {d["personen"]} (pseudoniem; herleiding door de verwerkingsverantwoordelijke)
Betrokken zaken: {len(d["zaken"])}
Categorieën persoonsgegevens:
{categories or "  - geen"}
Organisaties die de gegevens (konden) ontvangen: {", ".join(d["ontvangers"]) or "geen"}
Waarschijnlijke gevolgen: {TODO}
Genomen en voorgestelde maatregelen: {TODO}
Contactpunt: {TODO}

Opgesteld uit het auditspoor op {d["opgesteld_op"]}; melden binnen 72 uur na ontdekking.
"""


def _message(d: dict[str, Any]) -> str:
    special = [n for n in d["per_categorie"] if n != ORDINARY]
    extra = "Het gaat ook om bijzondere gegevens: " + ", ".join(special) + ". " if special else ""
    return f"""CONCEPT — bericht aan betrokkenen (AVG art. 34)

Beste meneer/mevrouw,

Wij moeten u laten weten dat gegevens uit uw dossier in de levensloopaanpak mogelijk in
verkeerde handen zijn gekomen. {extra}{TODO} (wat er is gebeurd, in gewone taal)

Wat wij hebben gedaan: {TODO}
Wat u zelf kunt doen: {TODO}
Vragen? Neem contact op met: {TODO}
"""
