"""The published keys: what a partner verifies authors and countersignatures with, and
where a partner confirms it has installed a new key generation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic_core import to_json

from casestore.entrypoints.api.deps import Caller, ServicesDep, allow
from casestore.entrypoints.api.openapi import errors
from casestore.entrypoints.api.problems import HttpProblem
from casestore.entrypoints.api.schemas import KeyDirectoryPublic, KeyGeneration
from casestore.services.clients import Client, ClientRole
from casestore.services.keys import KeyManagementError, UnknownGeneration

router = APIRouter(prefix="/v1/keys", tags=["keys"])

PartnerSystem = Annotated[Client, Depends(allow(ClientRole.partner_system))]


@router.get("", response_model=KeyDirectoryPublic, responses=errors())
def read_keys(caller: Caller, services: ServicesDep) -> Response:
    """Every organisation's key generations, with their validity, signed by the
    custodian."""
    # Sent as signed, byte for byte in its values: validating it against the response
    # model would re-spell its times (the model documents it).
    directory = services.provenance.key_directory(services.store.clock())
    return Response(to_json(directory), media_type="application/json")


@router.post(
    "/{org_id}/generations/{generation}/confirm",
    response_model=KeyGeneration,
    responses=errors(409),
)
def confirm_key_generation(
    caller: PartnerSystem,
    services: ServicesDep,
    org_id: Annotated[str, PathParam(min_length=1, max_length=64)],
    generation: Annotated[int, PathParam(ge=1, le=1_000_000)],
) -> dict[str, Any]:
    """Confirm that your organisation has installed the private key of a generation: every
    older generation is retired, and its grants are revoked at the next reconciliation
    (the worker's housekeeping pass, about a minute). Confirming again changes nothing;
    404 for a generation that does not exist or an organisation not your own, 409 when
    the generation was already retired."""
    if caller.org_id != org_id:  # as for any resource not the caller's own: not found
        raise HttpProblem(404, "not-found", "Not found", f"{org_id} is not your organisation")
    try:
        record = services.keys.confirm(org_id, generation)
    except UnknownGeneration as exc:
        raise HttpProblem(404, "not-found", "Not found", str(exc)) from None
    except KeyManagementError as exc:
        raise HttpProblem(
            409, "key-generation-retired", "Key generation retired", str(exc)
        ) from None
    return record.to_json()
