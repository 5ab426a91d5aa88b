"""Random event sequences against one case, checked against a small model of the process.

The model below restates the levensloop rules independently of `Case`: for every command
it predicts either the refusal (which error) or the next state. After every step the live
case must match the model, a refusal must have left no trace, and the case rebuilt from
its events must equal the live one. At the end the events also go through a real
`eventsourcing` application on in-memory (POPO) storage and must come back as the same
case.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from casestore.domain import errors
from casestore.domain.case import Case
from casestore.domain.catalogue import parse_payload
from casestore.domain.events import EVENT_TYPES as REGISTERED
from casestore.domain.events.rights import corrections_of, objections_of, restraints_state
from casestore.domain.header import EventHeader
from casestore.domain.status import Status
from casestore.services.sealing import case_context, kader_conditions
from sharing.policy import CaseContext
from tests.factories import pending, replayed

TODAY = date(2026, 3, 2)
OPENED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CASE_ID = UUID("5d1c9a3e-0000-4000-8000-0000000000aa")
PERSON_ID = UUID("7e2f0b4d-0000-4000-8000-0000000000bb")

REFERRER = "politie-zuid"
CUSTODIAN = "zvh-zuid"
ORGANISATIONS = (REFERRER, CUSTODIAN, "ggz-noord", "gemeente-zuid", "woonstad", "reclassering")
OPEN = (Status.aangemeld, Status.getrieerd, Status.geincludeerd)
ROLES = ("levensloopaanbieder", "casusregisseur", "procesregisseur")
ADMITTING = ("organisatie", *ROLES, "naar")
APPENDABLE = (  # harmless types at the ends, which hypothesis draws most
    "signalering",
    "triagebesluit",
    "inclusiebesluit",
    "netwerkwijziging",
    "planwijziging",
    "uitstroom",
    "opschaling",
    "afschaling",
    "monitoringsmoment",
    "casusoverleg",
    "toestemming",
    "conflict_van_plichten",
    "toestemming_ingetrokken",
    "bekendheidsvraag",
    "bekendheidsantwoord",
    "betrokkene_geinformeerd",
    "informeren_uitgesteld",
    "kaderwijziging",
    "risicotaxatie",
    "regiewijziging",
    "actiestatus",
    "reactie",
    "escalatie",
    "nazorg",
    "heraanmelding",
    "correctie",
    "clientverklaring",
    "bezwaar",
    "beperking",
    "beperking_opgeheven",
)
AFTER_END = ("nazorg", "heraanmelding")
KADERS = ("vrijwillig", "zorgmachtiging", "bijzondere_voorwaarden")

# Half of the commands take the process a step further, so that runs get past inclusion.
NEXT_STEPS = {
    Status.aangemeld: ["triagebesluit", "bekendheidsvraag", "bekendheidsantwoord"],
    Status.getrieerd: ["inclusiebesluit", "kaderwijziging"],
    Status.geincludeerd: [
        "planwijziging",
        "opschaling",
        "afschaling",
        "netwerkwijziging",
        "regiewijziging",
        "actiestatus",
        "reactie",
    ],
    Status.afgesloten: list(APPENDABLE),
    Status.uitgestroomd: ["nazorg", "heraanmelding"],
}

# One time in ten. Hypothesis favours the ends of a range, so the rare values sit inside it.
RARELY = st.integers(0, 99).map(lambda n: 45 <= n < 55)
SOMETIMES = st.integers(0, 99).map(lambda n: 35 <= n < 65)

# Content never steers the process: constant text keeps the search on what does.
text = st.just("Besproken in het netwerk.")
organisation = st.sampled_from(ORGANISATIONS)
REFERENCE = st.integers(1, 30).map(lambda n: f"evt-{n}")  # `submit` also picks real ones
DAY = st.integers(-60, 60).map(lambda n: TODAY + timedelta(days=n)).filter(lambda d: d <= TODAY)


@dataclass(frozen=True)
class Model:
    """What the process says the case should look like."""

    status: Status = Status.aangemeld
    level: int | None = None
    plan_version: int = 0
    network: frozenset[str] = frozenset({REFERRER, CUSTODIAN})
    regie: dict[str, str] = field(default_factory=dict)
    toestemmingen: frozenset[str] = frozenset()
    withdrawn: frozenset[str] = frozenset()
    closed_at: datetime | None = None
    version: int = 1
    open_questions: dict[str, str] = field(default_factory=dict)
    kaders: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)  # id, van, tot
    action_owners: tuple[str, ...] = ()
    signaleringen: dict[str, bool] = field(default_factory=dict)
    meetings: tuple[str, ...] = ()
    informing: tuple[str, str | None] = ("niet_geinformeerd", None)
    nazorg_until: str | None = None
    minderjarig_tot: str | None = None
    case_roles: dict[str, str] = field(default_factory=dict)  # organisation -> rol_in_casus
    corrections: dict[str, dict[str, str]] = field(default_factory=dict)
    objections: dict[str, str] = field(default_factory=dict)
    beperkingen: dict[str, bool] = field(default_factory=dict)  # beperking id -> lifted


def claims_adult_too_early(model: Model, control: dict[str, Any], when: datetime) -> bool:
    """A decision that finds the person adult before the 18th birthday the referral gave."""
    young_until = model.minderjarig_tot
    return bool(control.get("meerderjarig_geclaimd")) and (
        young_until is not None and when.date().isoformat() < young_until
    )


def check_author(
    model: Model, event_type: str, author: str, control: dict[str, Any]
) -> type[errors.ProcessViolation] | None:
    if event_type == "bekendheidsantwoord":
        asked = model.open_questions.get(control["vraag"])
        if asked is None:
            return errors.QuestionNotOpen
        if author != asked or control["organisatie"] != asked:
            return errors.NotAsked
        return None
    if event_type == "correctie":  # checked against the stored events, by the service
        return None
    if author not in model.network:
        return errors.AuthorNotInNetwork
    if event_type in ("opschaling", "afschaling"):
        if model.status is not Status.geincludeerd:
            return errors.InclusionRequired
        if control["casusoverleg"] is not None:
            return None if control["casusoverleg"] in model.meetings else errors.UnknownCasusoverleg
        if author != model.regie.get("levensloopaanbieder"):
            return errors.NotLevensloopaanbieder
    if event_type == "actiestatus":
        if model.status is not Status.geincludeerd:
            return errors.InclusionRequired
        action = control["actie"]
        if control["planversie"] != model.plan_version or action > len(model.action_owners):
            return errors.ActionNotInPlan
        if model.action_owners[action - 1] != author:
            return errors.NotActionOwner
    return None


def predict(
    model: Model,
    event_type: str,
    author: str,
    when: datetime,
    event_id: str,
    control: dict[str, Any],
) -> Model | type[errors.ProcessViolation]:
    """The next model, or the class of the error the process raises."""
    if event_type not in AFTER_END and model.status not in OPEN:
        return errors.CaseClosed
    refused = check_author(model, event_type, author, control)
    if refused is not None:
        return refused
    if when < OPENED:
        return errors.OccurredBeforeOpening
    included = model.status is Status.geincludeerd
    after = replace(model, version=model.version + 1)
    if event_type == "triagebesluit":
        if model.status is not Status.aangemeld:
            return errors.AlreadyTriaged
        if claims_adult_too_early(model, control, when):
            return errors.MinorClaimedAdult
        if control["uitkomst"] == "inclusietafel":
            return replace(after, status=Status.getrieerd)
        return replace(after, status=Status.afgesloten, closed_at=when)
    if event_type == "inclusiebesluit":
        if model.status is Status.aangemeld:
            return errors.TriageRequired
        if model.status is not Status.getrieerd:
            return errors.AlreadyDecided
        if claims_adult_too_early(model, control, when):
            return errors.MinorClaimedAdult
        if not control["geincludeerd"]:
            return replace(after, status=Status.afgesloten, closed_at=when)
        regie = {r: control[r] for r in ROLES}
        return replace(
            after,
            status=Status.geincludeerd,
            level=control["startniveau"],
            regie=regie,
            network=model.network | set(regie.values()),
        )
    if event_type == "netwerkwijziging":
        org = control["organisatie"]
        if control["wijziging"] == "toegetreden":
            if org in model.network:
                return errors.AlreadyInNetwork
            roles = {**model.case_roles, org: control["rol_in_casus"]}
            return replace(after, network=model.network | {org}, case_roles=roles)
        if org not in model.network:
            return errors.NotInNetwork
        if org in model.regie.values():
            return errors.RegisseurMustStay
        roles = {o: r for o, r in model.case_roles.items() if o != org}
        return replace(after, network=model.network - {org}, case_roles=roles)
    if event_type == "conflict_van_plichten":
        return after
    if event_type == "toestemming":
        return replace(after, toestemmingen=model.toestemmingen | {event_id})
    if event_type == "toestemming_ingetrokken":
        target = control["toestemming"]
        if target not in model.toestemmingen:
            return errors.ConditionNotFound
        if target in model.withdrawn:
            return errors.ConditionWithdrawn
        return replace(after, withdrawn=model.withdrawn | {target})
    if event_type == "bekendheidsvraag":
        if model.status is not Status.aangemeld:
            return errors.AskedAfterTriage
        if control["organisatie"] in model.open_questions.values():
            return errors.AlreadyAsked
        return replace(
            after, open_questions={**model.open_questions, event_id: control["organisatie"]}
        )
    if event_type == "bekendheidsantwoord":
        questions = {k: v for k, v in model.open_questions.items() if k != control["vraag"]}
        return replace(after, open_questions=questions)
    if event_type == "betrokkene_geinformeerd":
        return replace(after, informing=("geinformeerd", control["datum"]))
    if event_type == "informeren_uitgesteld":
        return replace(after, informing=("uitgesteld", control["herzien_op"]))
    if event_type == "kaderwijziging":
        period = (event_id, control["ingangsdatum"], control["einddatum"])
        return replace(after, kaders={**model.kaders, control["kader"]: period})
    if event_type in ("risicotaxatie", "escalatie", "clientverklaring"):
        return after
    if event_type == "beperking":
        return replace(after, beperkingen={**model.beperkingen, event_id: False})
    if event_type == "beperking_opgeheven":
        if model.beperkingen.get(control["beperking"]) is not False:
            return errors.NoBeperkingToLift
        return replace(after, beperkingen={**model.beperkingen, control["beperking"]: True})
    if event_type == "correctie":
        target = control["gebeurtenis"]
        done = model.corrections.get(target, {})
        if set(control["velden"]) & set(done):
            return errors.AlreadyCorrected
        fields = {**done, **dict.fromkeys(control["velden"], event_id)}
        return replace(after, corrections={**model.corrections, target: fields})
    if event_type == "bezwaar":
        decided = control["bezwaar"]
        if decided is not None and model.objections.get(decided) != "in_behandeling":
            return errors.ObjectionNotPending
        key = decided or event_id
        return replace(after, objections={**model.objections, key: control["besluit"]})
    if event_type == "signalering":
        return replace(after, signaleringen={**model.signaleringen, event_id: False})
    if event_type in ("reactie", "casusoverleg"):
        if event_type == "casusoverleg":
            after = replace(after, meetings=(*model.meetings, event_id))
        signal = control["signalering"]
        if signal is None and event_type == "casusoverleg":
            return after
        if signal not in model.signaleringen:
            return errors.UnknownSignalering
        return replace(after, signaleringen={**model.signaleringen, signal: True})
    if event_type == "nazorg":
        if model.status is not Status.uitgestroomd:
            return errors.UitstroomRequired
        return replace(after, nazorg_until=control["tot"])
    if event_type == "heraanmelding":
        if model.status is not Status.uitgestroomd:
            return errors.UitstroomRequired
        if model.nazorg_until is None:
            return errors.NazorgRequired
        return replace(after, status=Status.geincludeerd, closed_at=None, nazorg_until=None)
    if not included:
        return errors.InclusionRequired
    if event_type == "planwijziging":
        if control["planversie"] != model.plan_version + 1:
            return errors.PlanVersionOutOfOrder
        return replace(
            after, plan_version=control["planversie"], action_owners=tuple(control["actiehouders"])
        )
    if event_type == "actiestatus":
        return after
    if event_type == "regiewijziging":
        holder = model.regie.get(control["rol"])
        if holder != control["van"] or control["naar"] == holder:
            return errors.NotRoleHolder
        return replace(
            after,
            regie={**model.regie, control["rol"]: control["naar"]},
            network=model.network | {control["naar"]},
        )
    if event_type in ("opschaling", "afschaling"):
        up = event_type == "opschaling"
        if up and control["niveau"] <= model.level:
            return errors.LevelNotHigher
        if not up and control["niveau"] >= model.level:
            return errors.LevelNotLower
        signal = control["signalering"]
        if signal is not None and signal not in model.signaleringen:
            return errors.UnknownSignalering
        answered = {} if signal is None else {signal: True}
        return replace(
            after, level=control["niveau"], signaleringen={**model.signaleringen, **answered}
        )
    if event_type == "monitoringsmoment":
        return after
    assert event_type == "uitstroom"
    return replace(after, status=Status.uitgestroomd, closed_at=when)


VERDICT = st.sampled_from(["voldaan", "niet_voldaan", "onbekend"])
CRITERIA = st.fixed_dictionaries(
    {
        "psychiatrische_stoornis": st.just("voldaan"),
        "lvb": VERDICT,
        "nah": VERDICT,
        "verslaving": VERDICT,
        "meerderjarig": VERDICT,
        "gevaar_risicotaxatie": VERDICT,
        "dwangkader": VERDICT,
        "politie_justitie": VERDICT,
        "multiproblematiek": VERDICT,
    }
)
ENDING = st.sampled_from(["buiten_doelgroep", "andere_aanpak_passend", "overig"])
_positive_inclusion = st.fixed_dictionaries(
    {
        "geincludeerd": st.just(True),
        "levensloopaanbieder": organisation,
        "casusregisseur": organisation,
        "procesregisseur": organisation,
        "startniveau": st.integers(1, 4),
        "onderbouwing": text,
    },
    optional={"doelgroepcriteria": CRITERIA},
)
_negative_inclusion = st.fixed_dictionaries(
    {"geincludeerd": st.just(False), "afsluitreden": ENDING, "onderbouwing": text}
)

# Schema-valid payloads per type; built once, as building strategies per step is slow.
# Control values range over right and wrong for the process; `submit` adds the plan
# version that fits and organisations from the network, so both come up often.
PAYLOADS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "triagebesluit": RARELY.flatmap(
        lambda rare: st.fixed_dictionaries(
            {
                "uitkomst": st.just("andere_aanpak" if rare else "inclusietafel"),
                "onderbouwing": text,
                "doelgroepcriteria": CRITERIA,
                **({"afsluitreden": ENDING} if rare else {}),
            }
        )
    ),
    "inclusiebesluit": RARELY.flatmap(
        lambda rare: _negative_inclusion if rare else _positive_inclusion
    ),
    "netwerkwijziging": st.fixed_dictionaries(
        {
            "organisatie": organisation,
            "wijziging": st.sampled_from(["toegetreden", "uitgetreden"]),
            "rol_in_casus": st.sampled_from(["behandelaar", "wijkagent", "casusregisseur"]),
        }
    ),
    "planwijziging": st.fixed_dictionaries(
        {
            "planversie": st.integers(1, 6),
            "doelen": st.just([{"levensdomein": "wonen", "doel": "Woning behouden."}]),
            "acties": st.lists(
                organisation.map(lambda org: {"organisatie": org, "actie": "Depotmedicatie."}),
                min_size=1,
                max_size=3,
            ),
            "casusregisseur_contact": text,
        }
    ),
    "signalering": st.fixed_dictionaries(
        {
            "categorie": st.sampled_from(["terugval", "dreiging", "zorgmijding"]),
            "ernst": st.integers(1, 4),
            "gevraagde_actie": text,
        }
    ),
    "opschaling": st.fixed_dictionaries(
        {
            "niveau": st.integers(1, 4),
            "reden": text,
            "signalering": st.none() | REFERENCE,
            "casusoverleg": st.none() | REFERENCE,
            "setting": st.just("klinisch"),
            "financier": st.just("zvw"),
        }
    ),
    "afschaling": st.fixed_dictionaries(
        {"niveau": st.integers(1, 4), "reden": text, "casusoverleg": st.none() | REFERENCE}
    ),
    "casusoverleg": st.fixed_dictionaries(
        {
            "soort": st.sampled_from(["levenslooptafel", "crisisoverleg"]),
            "signalering": st.none() | REFERENCE,
            "deelnemers": st.just(["ggz-noord", "zvh-zuid"]),
            "besluiten": text,
            "actiepunten": st.just([{"organisatie": "woonstad", "actie": "Huurgesprek."}]),
        }
    ),
    "bekendheidsvraag": st.fixed_dictionaries(
        {"organisatie": organisation, "naam": text, "geboortedatum": st.just("1984-06-12")}
    ),
    "bekendheidsantwoord": st.fixed_dictionaries(
        {"vraag": REFERENCE, "organisatie": organisation, "bekend": st.booleans()}
    ),
    "betrokkene_geinformeerd": st.fixed_dictionaries(
        {"datum": DAY.map(str), "door": text, "wijze": st.just("gesprek")}
    ),
    "correctie": st.tuples(
        REFERENCE, st.sampled_from([["toelichting"], ["reden"], ["reden", "toelichting"]])
    ).map(
        lambda drawn: {
            "gebeurtenis": drawn[0],
            "velden": drawn[1],
            "nieuwe_waarden": dict.fromkeys(drawn[1], "Gecorrigeerd."),
        }
    ),
    "clientverklaring": st.fixed_dictionaries({"ontvangen_op": DAY.map(str), "verklaring": text}),
    "bezwaar": st.one_of(
        st.fixed_dictionaries(
            {
                "ingediend_op": DAY.map(str),
                "besluit": st.just("in_behandeling"),
                "gronden": text,
                "tegen": st.one_of(st.none(), st.just([REFERRER])),
            }
        ),
        st.fixed_dictionaries(
            {
                "ingediend_op": DAY.map(str),
                "besluit": st.sampled_from(["toegewezen", "afgewezen"]),
                "besloten_op": DAY.map(str),
                "bezwaar": st.one_of(st.none(), REFERENCE),
            }
        ),
    ),
    "beperking": st.fixed_dictionaries(
        {"grond": st.just("juistheid_betwist"), "ingang": DAY.map(str)}
    ),
    "beperking_opgeheven": st.tuples(REFERENCE, DAY).map(
        lambda drawn: {
            "beperking": drawn[0],
            "opgeheven_op": str(drawn[1]),
            "betrokkene_geinformeerd_op": str(drawn[1]),
        }
    ),
    "informeren_uitgesteld": st.fixed_dictionaries(
        {"herzien_op": DAY.map(str), "reden": text, "grondslag": text}
    ),
    "kaderwijziging": st.tuples(st.sampled_from(KADERS), DAY, st.integers(0, 400)).map(
        lambda drawn: {
            "kader": drawn[0],
            "ingangsdatum": str(drawn[1]),
            "einddatum": None
            if drawn[0] == "vrijwillig"
            else str(drawn[1] + timedelta(days=drawn[2])),
        }
    ),
    "risicotaxatie": st.fixed_dictionaries(
        {
            "datum": DAY.map(str),
            "instrument": st.just("hkt_r"),
            "beoordelaar": organisation,
            "uitkomst": st.sampled_from(["laag", "hoog"]),
        }
    ),
    "regiewijziging": st.fixed_dictionaries(
        {
            "rol": st.sampled_from(ROLES),
            "van": organisation,
            "naar": organisation,
            "contactpersoon": text,
        }
    ),
    "actiestatus": st.fixed_dictionaries(
        {
            "planversie": st.integers(1, 4),
            "actie": st.integers(1, 4),
            "status": st.just("uitgevoerd"),
        }
    ),
    "reactie": st.fixed_dictionaries({"signalering": REFERENCE, "opvolging": st.just("opgepakt")}),
    "escalatie": st.fixed_dictionaries({"gremium": st.just("stuurgroep_zvh"), "knelpunt": text}),
    "nazorg": st.fixed_dictionaries(
        {"herzien_op": st.just("2026-09-01"), "tot": st.just("2027-03-01"), "afspraken": text}
    ),
    "heraanmelding": st.fixed_dictionaries({"reden": text}),
    "monitoringsmoment": st.fixed_dictionaries(
        {"bevindingen": text, "risico_inschatting": st.sampled_from(["laag", "hoog"])}
    ),
    "uitstroom": st.fixed_dictionaries(
        {"reden": st.sampled_from(["doelen_bereikt", "overleden", "overig"])}
    ),
    "toestemming": st.fixed_dictionaries(
        {
            "ontvangers": st.just(["zvh-zuid", "gemeente-zuid"]),
            "gegeven_door": st.just("betrokkene"),
            "gegeven_op": st.just("2026-03-01"),
            "motivering": text,
        }
    ),
    "conflict_van_plichten": st.fixed_dictionaries(
        {"ontvangers": st.just(["politie-zuid"]), "afweging": text}
    ),
    "toestemming_ingetrokken": st.fixed_dictionaries(
        {
            "toestemming": st.sampled_from(["evt-1", "evt-2", "evt-3", "evt-4"]),
            "ingetrokken_op": st.just("2026-03-02"),
        }
    ),
}
# Uitstroom ends what a run can still test, so it is drawn less often than the rest.
_any_type = st.tuples(st.sampled_from(APPENDABLE), SOMETIMES).map(
    lambda drawn: "signalering" if drawn[0] == "uitstroom" and not drawn[1] else drawn[0]
)
EVENT_TYPES = {
    status: st.one_of(_any_type, st.sampled_from(steps)) for status, steps in NEXT_STEPS.items()
}
ANY_INDEX = st.integers(0, 1_000)
HOURS = RARELY.flatmap(
    lambda too_early: st.integers(-48, -1) if too_early else st.integers(0, 24 * 365)
)


def ends(event: Case.Event) -> bool:
    return (
        event.event_type == "uitstroom"
        or (event.event_type == "triagebesluit" and event.control["uitkomst"] != "inclusietafel")
        or (event.event_type == "inclusiebesluit" and not event.control["geincludeerd"])
    )


def state(case: Case) -> dict[str, Any]:
    return {k: v for k, v in case.__dict__.items() if k != "_pending_events"}


class CaseProcess(RuleBasedStateMachine):
    case: Case
    model: Model
    events: list[Case.Event]

    @initialize(young=SOMETIMES)
    def open_the_case(self, young: bool) -> None:
        # A person referred at 17 turns 18 within the year the run's events span.
        born = "2008-09-01" if young else "1984-06-12"
        payload = parse_payload(
            "aanmelding",
            {
                "bsn": "111222333",
                "naam": "J. de Vries",
                "geboortedatum": born,
                "aanmeldreden": "Dreigend gedrag.",
                "risico_indicatie": "Hoog.",
                "contactpersoon_aanmelder": "Wijkagent",
            },
            today=TODAY,
        )
        self.case = Case.open(
            case_id=CASE_ID,
            person_id=PERSON_ID,
            network=[REFERRER, CUSTODIAN],
            header=EventHeader("evt-0", REFERRER, "agent", OPENED, OPENED, "digest-0"),
            control=payload.recorded_control(),
            content=payload.content_values(),
        )
        self.model = Model(minderjarig_tot="2026-09-01" if young else None)
        self.events = pending(self.case)
        self.sequence = 0

    @rule(data=st.data())
    def submit(self, data: st.DataObject) -> None:
        event_type = data.draw(EVENT_TYPES[self.model.status], label="event type")
        members = sorted(self.model.network)
        if not members or data.draw(RARELY, label="outsider?"):
            author = data.draw(organisation, label="author")
        else:
            author = members[data.draw(ANY_INDEX, label="author") % len(members)]
        hours = data.draw(HOURS, label="hours after opening")
        raw = dict(data.draw(PAYLOADS[event_type], label="payload"))
        if event_type == "planwijziging" and data.draw(st.booleans(), label="next version?"):
            raw["planversie"] = self.model.plan_version + 1
        if (
            event_type == "netwerkwijziging"
            and members
            and data.draw(st.booleans(), label="member?")
        ):
            raw["organisatie"] = members[data.draw(ANY_INDEX, label="member") % len(members)]
        author = self._likely(event_type, raw, author, data)
        payload = parse_payload(event_type, raw, today=TODAY)
        control = payload.recorded_control()
        when = OPENED + timedelta(hours=hours)
        self.sequence += 1
        event_id = f"evt-{self.sequence}"
        header = EventHeader(event_id, author, "user", when, when, f"digest-{self.sequence}")
        expected = predict(self.model, event_type, author, when, event_id, control)
        admitted = {control[name] for name in ADMITTING if control.get(name)}
        assert self.case.audience(control) == sorted(self.model.network | admitted)
        before = copy.deepcopy(state(self.case))

        try:
            self.case.record(
                event_type,
                header=header,
                control=control,
                content=payload.content_values(),
            )
        except errors.ProcessViolation as refused:
            event(f"{event_type} refused: {type(refused).__name__}")
            assert type(refused) is expected, f"{event_type}: {refused!r}, expected {expected}"
            assert state(self.case) == before
            assert self.case.collect_events() == []
            return

        assert isinstance(expected, Model), f"{event_type} was recorded, expected {expected}"
        event(f"{event_type} recorded")
        old_level = self.model.level
        new = pending(self.case)
        assert [e.event_type for e in new] == [event_type]
        assert new[0].event_id == event_id
        self.events.extend(new)
        self.model = expected
        self._check_level_change(event_type, old_level, self.case.level)
        assert (new[0].originator_version, new[0].digest) == (self.model.version, header.digest)

    def _likely(
        self, event_type: str, raw: dict[str, Any], author: str, data: st.DataObject
    ) -> str:
        """Point half of the references at what the case has (the open question, a
        signal, the holder of a role, an action and its owner); returns the author."""
        if not data.draw(st.booleans(), label="fitting references?"):
            return author
        pick = data.draw(ANY_INDEX, label="pick")
        model = self.model
        if event_type == "bekendheidsantwoord" and model.open_questions:
            raw["vraag"] = sorted(model.open_questions)[pick % len(model.open_questions)]
            raw["organisatie"] = model.open_questions[raw["vraag"]]
            return str(raw["organisatie"])
        if event_type in ("reactie", "opschaling", "casusoverleg") and model.signaleringen:
            raw["signalering"] = sorted(model.signaleringen)[pick % len(model.signaleringen)]
        if event_type in ("opschaling", "afschaling"):
            if model.meetings and raw["casusoverleg"] is not None:
                raw["casusoverleg"] = model.meetings[pick % len(model.meetings)]
            elif "levensloopaanbieder" in model.regie:
                return model.regie["levensloopaanbieder"]
        if event_type == "correctie" and model.corrections:
            raw["gebeurtenis"] = sorted(model.corrections)[pick % len(model.corrections)]
        if event_type == "beperking_opgeheven" and model.beperkingen:
            raw["beperking"] = sorted(model.beperkingen)[pick % len(model.beperkingen)]
        if event_type == "bezwaar" and raw.get("bezwaar") and model.objections:
            raw["bezwaar"] = sorted(model.objections)[pick % len(model.objections)]
        if event_type == "regiewijziging" and model.regie:
            raw["van"] = model.regie[raw["rol"]]
        if event_type == "actiestatus" and model.action_owners:
            raw["planversie"] = model.plan_version
            action = pick % len(model.action_owners)
            raw["actie"] = action + 1
            return model.action_owners[action]
        return author

    @staticmethod
    def _check_level_change(event_type: str, old: int | None, new: int | None) -> None:
        if event_type == "opschaling":
            assert old is not None and new is not None and new > old
        elif event_type == "afschaling":
            assert old is not None and new is not None and new < old
        elif event_type == "inclusiebesluit" and new is not None:
            assert old is None
        else:
            assert new == old

    @invariant()
    def the_case_matches_the_model(self) -> None:
        assert self.case.status is self.model.status
        assert self.case.level == self.model.level
        assert self.case.plan_version == self.model.plan_version
        assert self.case.network == sorted(self.model.network)
        assert self.case.regie == self.model.regie
        assert self.case.case_roles == self.model.case_roles
        assert self.case.minderjarig_tot == self.model.minderjarig_tot
        assert self.case.closed_at == self.model.closed_at
        assert self.case.version == self.model.version == len(self.events)
        assert self.case.is_open is (self.model.status in OPEN)
        assert self.case.open_questions == self.model.open_questions
        assert self.case.action_owners == list(self.model.action_owners)
        assert self.case.signaleringen == self.model.signaleringen
        assert self.case.meetings == list(self.model.meetings)
        assert tuple(self.case.informing.values()) == self.model.informing
        assert self.case.nazorg_until == self.model.nazorg_until
        assert corrections_of(self.case) == self.model.corrections
        assert objections_of(self.case) == self.model.objections
        assert {
            k: r["lifted"] for k, r in restraints_state(self.case).items() if "lifted" in r
        } == self.model.beperkingen
        assert {k: (p["id"], p["van"], p["tot"]) for k, p in self.case.kaders.items()} == (
            self.model.kaders
        )

    @invariant()
    def every_regie_role_has_exactly_one_holder_in_the_network(self) -> None:
        if self.case.regie:
            assert sorted(self.case.regie) == sorted(ROLES)
            assert set(self.case.regie.values()) <= set(self.case.network)

    @invariant()
    def the_kaders_in_force_follow_their_periods_for_the_case_and_the_policy(self) -> None:
        for day in (TODAY - timedelta(days=30), TODAY, TODAY + timedelta(days=200)):
            expected = sorted(
                kader
                for kader, (_, van, tot) in self.model.kaders.items()
                if van <= day.isoformat() and (tot is None or day.isoformat() <= tot)
            )
            assert self.case.kaders_in_force(day) == expected
            noon = datetime.combine(day, time(12), UTC)
            in_force = CaseContext.of([], {}, kader_conditions(self.case)).at(noon).kaders()
            assert sorted(c.kader.replace("-", "_") for c in in_force) == expected

    @invariant()
    def a_partner_role_resolves_in_the_policy_context_but_never_a_regie_role(self) -> None:
        roles = case_context(self.case, {}).roles
        for role in ROLES:
            assert roles.get(role, frozenset()) == (
                {self.case.regie[role]} if role in self.case.regie else frozenset()
            )
        for org, rol in self.model.case_roles.items():
            if rol not in ROLES:
                assert org in roles[rol.replace("_", "-")]

    @invariant()
    def the_level_stays_within_one_to_four(self) -> None:
        if self.case.status in (Status.aangemeld, Status.getrieerd):
            assert self.case.level is None
        if self.case.level is not None:
            assert 1 <= self.case.level <= 4

    @invariant()
    def only_nazorg_follows_the_end_of_a_case_until_a_heraanmelding(self) -> None:
        ended: str | None = None
        for recorded in self.events:
            if ended is not None:
                assert ended == "uitstroom" and recorded.event_type in AFTER_END
            if recorded.event_type == "heraanmelding":
                ended = None
            elif ends(recorded):
                ended = recorded.event_type
        assert self.case.is_open is (ended is None)

    @invariant()
    def the_case_rebuilt_from_its_events_equals_the_live_case(self) -> None:
        assert state(replayed(self.events)) == state(self.case)

    def teardown(self) -> None:
        if not getattr(self, "events", None):
            return
        app: Application[UUID] = Application(
            env={"PERSISTENCE_MODULE": "eventsourcing.popo", "IS_SNAPSHOTTING_ENABLED": "y"}
        )
        app.events.put(self.events)
        assert [type(e) for e in app.events.get(CASE_ID)] == [type(e) for e in self.events]
        stored: Case = app.repository.get(CASE_ID)
        assert state(stored) == state(self.case)

        app.take_snapshot(CASE_ID)
        assert app.snapshots is not None
        [snapshot] = app.snapshots.get(CASE_ID)
        assert snapshot.originator_version == self.case.version
        from_snapshot: Case = app.repository.get(CASE_ID)
        assert state(from_snapshot) == state(self.case)


CaseProcess.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCaseProcess = CaseProcess.TestCase


def test_the_model_knows_every_type_a_case_records() -> None:
    # A registered type the model does not know is never drawn, so its rules go unchecked.
    recordable = set(REGISTERED) - {REGISTERED.opening().event_type}

    assert set(APPENDABLE) == recordable
    assert set(PAYLOADS) == recordable
