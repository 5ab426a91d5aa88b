"""The event registry is the one place where an event type is defined.

A registered type brings its schema, its guard, how it changes the case, and the event
class its events are stored as, under a topic that must never change. What a new type
needs besides (a policy that lets someone write it, the demo, the process model of the
state machine test) is checked at the end, so a type added to the registry alone fails
the suite instead of going unnoticed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.utils import resolve_topic

from casestore.domain import errors
from casestore.domain.case import Case
from casestore.domain.catalogue import describe, parse_payload, schema_of
from casestore.domain.events import EVENT_TYPES, EventTypes, Payload, control, event_type
from casestore.domain.events.care import Opschaling
from casestore.domain.events.fields import LongText, ShortText
from casestore.domain.events.intake import Aanmelding
from casestore.domain.header import EventHeader
from casestore.entrypoints.demo import SCENARIOS
from sharing.policy import catalogue_from_description, compile_policy, load_policy
from tests.factories import pending

# The topics stored events carry. A type may be added, but none of these may go away or
# change meaning: a stored event whose topic no longer resolves cannot be read.
STORED_TOPICS = {
    f"casestore.case.{name}": name
    for name in (
        "aanmelding",
        "bekendheidsvraag",
        "bekendheidsantwoord",
        "triagebesluit",
        "inclusiebesluit",
        "betrokkene_geinformeerd",
        "informeren_uitgesteld",
        "kaderwijziging",
        "risicotaxatie",
        "netwerkwijziging",
        "regiewijziging",
        "toestemming",
        "toestemming_ingetrokken",
        "conflict_van_plichten",
        "planwijziging",
        "actiestatus",
        "signalering",
        "reactie",
        "opschaling",
        "afschaling",
        "casusoverleg",
        "escalatie",
        "monitoringsmoment",
        "uitstroom",
        "nazorg",
        "heraanmelding",
        "correctie",
        "clientverklaring",
        "bezwaar",
        "beperking",
        "beperking_opgeheven",
    )
}
POLICIES = Path(__file__).resolve().parents[2] / "policies"
POLICY_FILES = sorted(p for p in POLICIES.glob("*.yaml") if not p.name.endswith(".tests.yaml"))


# ---- what the registry holds --------------------------------------------------------


@pytest.mark.parametrize("name", list(EVENT_TYPES))
def test_every_registered_type_is_a_payload_schema_under_its_name(name: str) -> None:
    schema = EVENT_TYPES[name]

    assert issubclass(schema, Payload)
    assert schema.event_type == name
    assert schema.summary
    assert schema_of(name) is schema
    assert describe()[name]["summary"] == schema.summary


def test_the_catalogue_lists_the_types_in_the_order_of_the_process() -> None:
    assert list(EVENT_TYPES) == list(STORED_TOPICS.values())
    assert list(describe()) == list(EVENT_TYPES)


# ---- what the aggregate derives from it ---------------------------------------------


@pytest.mark.parametrize("name", list(EVENT_TYPES))
def test_every_registered_type_has_an_event_class_under_its_stable_topic(name: str) -> None:
    event_class = Case.event_class(name)

    assert issubclass(event_class, Case.Event)
    assert f"casestore.case.{name}" == event_class.TOPIC
    assert resolve_topic(event_class.TOPIC) is event_class
    assert event_class.event_type == name
    assert event_class.payload_type is EVENT_TYPES[name]


@pytest.mark.parametrize("topic", sorted(STORED_TOPICS))
def test_the_topics_of_stored_events_still_resolve_to_their_type(topic: str) -> None:
    event_class = resolve_topic(topic)

    assert event_class is Case.event_class(STORED_TOPICS[topic])


def test_the_aggregate_has_no_event_class_the_registry_does_not_derive() -> None:
    nested = {
        value
        for value in vars(Case).values()
        if isinstance(value, type) and issubclass(value, Case.Event) and value is not Case.Event
    }

    assert nested == {Case.event_class(name) for name in EVENT_TYPES}


def test_the_aanmelding_alone_opens_a_case_and_is_the_created_event() -> None:
    assert [name for name, schema in EVENT_TYPES.items() if schema.opens_case] == ["aanmelding"]
    assert EVENT_TYPES.opening() is Aanmelding
    assert Case.Created is Case.event_class("aanmelding")
    assert issubclass(Case.Created, Aggregate.Created)
    assert not issubclass(Case.event_class("signalering"), Aggregate.Created)


def test_an_event_class_is_asked_for_by_a_known_type_only() -> None:
    with pytest.raises(errors.UnknownEventType):
        Case.event_class("verhuizing")


# ---- registering ------------------------------------------------------------------------


def throwaway() -> EventTypes:
    """A registry of its own with one type, so nothing here touches the real one."""
    types = EventTypes()

    @types.event_type("verhuizing", "The person moves house.")
    class Verhuizing(Payload):
        gemeente: ShortText = control()
        toelichting: LongText | None = None

    return types


def test_a_registered_type_is_known_by_name_with_its_fields_split() -> None:
    types = throwaway()

    assert list(types) == ["verhuizing"]
    assert types.control_fields("verhuizing") == ("gemeente",)
    assert types.content_fields("verhuizing") == ("toelichting",)
    assert types.describe()["verhuizing"]["summary"] == "The person moves house."
    payload = types.parse("verhuizing", {"gemeente": "Amsterdam"}, today=date(2026, 3, 2))
    assert payload.control_values() == {"gemeente": "Amsterdam"}


def test_a_name_cannot_be_registered_twice() -> None:
    types = throwaway()
    first = types["verhuizing"]

    with pytest.raises(ValueError, match="'verhuizing' is registered already"):

        @types.event_type("verhuizing", "Another meaning under the same name.")
        class Adreswijziging(Payload):
            adres: ShortText

    assert types["verhuizing"] is first
    assert len(types) == 1


def test_a_name_the_process_uses_cannot_be_taken_by_another_class() -> None:
    with pytest.raises(ValueError, match="'opschaling' is registered already"):

        @event_type("opschaling", "A second opschaling.")
        class TweedeOpschaling(Payload):
            niveau: int = control()

    assert EVENT_TYPES["opschaling"] is Opschaling
    assert Opschaling.event_type == "opschaling"


def test_one_class_is_one_type() -> None:
    types = throwaway()

    with pytest.raises(ValueError, match="Verhuizing is registered already"):
        types.event_type("adreswijziging", "The same class again.")(types["verhuizing"])

    assert list(types) == ["verhuizing"]


@pytest.mark.parametrize("name", ["Verhuizing", "titel gewijzigd", "titel-gewijzigd", "", "_x"])
def test_a_name_is_lower_case_words_joined_by_underscores(name: str) -> None:
    types = EventTypes()

    with pytest.raises(ValueError, match="lower-case words"):

        @types.event_type(name, "Badly named.")
        class Misnoemd(Payload):
            pass

    assert not types


def test_only_one_type_opens_a_case() -> None:
    types = EventTypes()
    types.event_type("aanmelding", "Opens.", opens_case=True)(type("Eerste", (Payload,), {}))

    with pytest.raises(ValueError, match="only one event type opens a case"):
        types.event_type("heraanmelding", "Opens too.", opens_case=True)(
            type("Tweede", (Payload,), {})
        )

    assert types.opening().event_type == "aanmelding"


def test_no_type_is_added_once_the_aggregate_is_made_from_the_registry() -> None:
    with pytest.raises(ValueError, match="event classes are made from the registry already"):

        @event_type("verhuizing", "Too late: the case has no event class for it.")
        class Verhuizing(Payload):
            gemeente: ShortText

    assert "verhuizing" not in EVENT_TYPES


# ---- what a type does unless it says otherwise -------------------------------------


def opened_case() -> Case:
    payload = parse_payload(
        "aanmelding",
        {
            "bsn": "111222333",
            "naam": "J. de Vries",
            "geboortedatum": "1984-06-12",
            "aanmeldreden": "Dreigend gedrag.",
            "risico_indicatie": "Hoog.",
            "contactpersoon_aanmelder": "Wijkagent",
        },
        today=date(2026, 3, 2),
    )
    opened = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    return Case.open(
        case_id=UUID("5d1c9a3e-0000-4000-8000-0000000000cc"),
        person_id=UUID("7e2f0b4d-0000-4000-8000-0000000000dd"),
        network=["politie-zuid", "zvh-zuid"],
        header=EventHeader("evt-0", "politie-zuid", "agent", opened, opened, "digest-0"),
        control=payload.control_values(),
        content=payload.content_values(),
    )


def test_a_type_that_says_nothing_waits_for_inclusion() -> None:
    verhuizing = throwaway()["verhuizing"]

    with pytest.raises(errors.InclusionRequired, match="a verhuizing needs a positive"):
        verhuizing.guard(opened_case(), {"gemeente": "Amsterdam"})


def test_a_type_that_says_nothing_changes_nothing() -> None:
    verhuizing = throwaway()["verhuizing"]
    case = opened_case()
    [event] = pending(case)
    before = dict(vars(case))

    verhuizing.evolve(case, event)

    assert vars(case) == before


# ---- what a new type needs besides the registry -------------------------------------


@pytest.mark.parametrize("policy_file", POLICY_FILES, ids=lambda path: path.stem)
def test_every_policy_lets_someone_write_every_type(policy_file: Path) -> None:
    catalogue = catalogue_from_description(describe())
    matrix = compile_policy(load_policy(policy_file, catalogue), catalogue)

    unwritable = [
        name
        for name in EVENT_TYPES
        if not any(matrix.may_ever_author(org, name) for org in matrix.organisations)
    ]

    assert unwritable == []


def test_the_demo_walks_every_type() -> None:
    walked: set[Any] = {"aanmelding"} | {
        step.event_type for _, _, _, steps in SCENARIOS for step in steps
    }

    assert walked == set(EVENT_TYPES)


def test_the_partner_docs_give_every_type_with_every_field() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "werkproces.md").read_text()
    sections = docs.split("\n### ")[1:]
    documented = {
        section.split("`")[1]: {
            line.split("`")[1] for line in section.splitlines() if line.startswith("| `")
        }
        for section in sections
    }

    assert documented == {name: set(schema.model_fields) for name, schema in EVENT_TYPES.items()}
