"""The published keys: what a partner verifies authors and countersignatures with."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic_core import to_json

from casestore.entrypoints.api.deps import Caller, ServicesDep
from casestore.entrypoints.api.openapi import errors
from casestore.entrypoints.api.schemas import KeyDirectoryPublic

router = APIRouter(prefix="/v1/keys", tags=["keys"])


@router.get("", response_model=KeyDirectoryPublic, responses=errors())
def read_keys(caller: Caller, services: ServicesDep) -> Response:
    """Every organisation's key generations, signed by the custodian."""
    # Sent as signed, byte for byte in its values: validating it against the response
    # model would re-spell its times (the model documents it).
    directory = services.provenance.key_directory(services.store.clock())
    return Response(to_json(directory), media_type="application/json")
