"""The case network: the partners who write to a case and receive its events, and who
holds which regie role in it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from casestore.domain import errors
from casestore.domain.events.fields import LongText, OrganisationId, RolInCasus, ShortText
from casestore.domain.events.intake import RegieRol
from casestore.domain.events.payload import Payload, control
from casestore.domain.events.registry import event_type

if TYPE_CHECKING:
    from casestore.domain.case import Case


@event_type("netwerkwijziging", "A partner joins or leaves the case network, in a role.")
class Netwerkwijziging(Payload):
    """The role a partner joins in (behandelaar, wijkagent, verhuurder …) is a control
    attribute: the case keeps it, and the policy's case role of the same name (hyphens
    for underscores) resolves to the partner, within what its organisation roles may hold.
    The regie roles are not given this way: an inclusion or a regiewijziging names them."""

    organisatie: OrganisationId = control()
    wijziging: Literal["toegetreden", "uitgetreden"] = control()
    rol_in_casus: RolInCasus = control()
    reden: LongText | None = None

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        # Allowed before inclusion: triage and the inclusietafel need the partners who
        # know the person in the network first.
        organisation = control["organisatie"]
        if control["wijziging"] == "toegetreden":
            if organisation in case.network:
                raise errors.AlreadyInNetwork(organisation)
            return
        if organisation not in case.network:
            raise errors.NotInNetwork(organisation)
        if organisation in case.regie.values():
            raise errors.RegisseurMustStay(organisation)

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        organisation = event.control["organisatie"]
        members = set(case.network)
        roles = {k: v for k, v in case.case_roles.items() if k != organisation}
        if event.control["wijziging"] == "toegetreden":
            members.add(organisation)
            # Events recorded while the role was sealed content tell no role.
            if event.control.get("rol_in_casus"):
                roles[organisation] = str(event.control["rol_in_casus"])
        else:
            members.discard(organisation)
        case.network = sorted(members)
        case.case_roles = roles


@event_type(
    "regiewijziging",
    "A regie role (levensloopaanbieder, casusregisseur, procesregisseur) moves to another org.",
)
class Regiewijziging(Payload):
    rol: RegieRol = control()
    van: OrganisationId = control()
    naar: OrganisationId = control()
    contactpersoon: ShortText
    plaatsvervanger: ShortText | None = None
    reden: LongText | None = None

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        # A role has exactly one holder: the transfer names the holder it takes over
        # from, so two partners that both think they hand it on cannot both succeed.
        case.check_included(cls.event_type)
        role, holder = str(control["rol"]), case.regie.get(str(control["rol"]))
        if holder != control["van"]:
            raise errors.NotRoleHolder(role, str(control["van"]), holder)
        if control["naar"] == holder:
            raise errors.NotRoleHolder(role, str(control["naar"]), holder)

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        # The new holder joins the network; the old one stays until it leaves by a
        # netwerkwijziging, which it now may.
        case.regie = {**case.regie, str(event.control["rol"]): str(event.control["naar"])}
        case.network = sorted(set(case.network) | {str(event.control["naar"])})
