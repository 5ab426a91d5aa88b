"""What sealing one event costs in CPU, apart from any storage (`time.process_time`).

seal_event   `sharing.envelope.seal_event`: 10 synthetic fields of ~200 bytes, each
             granted to the same 8 recipients (one ephemeral X25519 key per event, one
             Diffie-Hellman per recipient, then only symmetric wrapping). The target is
             read on this, the cost of a case's first event; beside it the same with the
             case's `SenderKey` kept, as the store seals every later event of a case.
naive        the obvious construction for comparison: per field one XChaCha20-Poly1305
             under a fresh data key, and per field and recipient one
             `nacl.public.SealedBox(pk).encrypt(data_key)` (two X25519 per call). It does
             less than seal_event (no escrow, no key commitment, no context in the wrapped
             key) and its boxes are built once, outside the timing: favourable to it.
Sealer.seal the store's whole sealing step for real events under the region's policy:
             policy lookup, canonical JSON, seal_event, grant/escrow/access rows; beside it
             seal_event alone on exactly the inputs `Sealer.seal` gave it (its sender key
             for the case included).

The two of each pair are measured in alternating batches (`measure.cpu_costs`), so their
ratio holds even when the host is busy.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from unittest import mock
from uuid import uuid4

import nacl.bindings
from nacl.public import PublicKey, SealedBox

import casestore.services.sealing
from bench import measure, workload
from casestore.bootstrap import build_sealer, prepare
from casestore.domain.catalogue import parse_payload
from casestore.services.provenance import sealed_values
from casestore.services.sealing import Sealer
from casestore.settings import Settings
from sharing.disclosures import disclose
from sharing.envelope import EventContext, SenderKey, content_ad, new_case_key, seal_event
from sharing.keys import OrgPrivateKeys, Recipient

FIELDS = 10
RECIPIENTS = 8
FIELD_BYTES = 200
TARGET_US = 1_000  # per event, seal_event with 10 fields x 8 recipients
CONTEXTS = 256  # distinct event ids cycled through (made before timing)
REGION = "amsterdam-amstelland"

# The real events timed through `Sealer.seal`: (event type, network, author, payload).
HEAVY_EVENTS: list[tuple[str, Sequence[str], str, dict[str, Any]]] = [
    ("planwijziging", workload.NETWORK, workload.PLAN_AUTHOR, workload.planwijziging(1)),
    ("signalering", workload.NETWORK, workload.PARTNER, workload.signalering(0)),
    (
        "signalering",
        sorted({workload.PARTNER, "zvh-amsterdam-amstelland"}),  # as the append workload's
        workload.PARTNER,
        workload.signalering(0),
    ),
]


def run(settings: Settings, seconds: float, log: Callable[[str], None]) -> dict[str, Any]:
    now = datetime.now(UTC)
    log(f"CPU per sealed event: seal_event vs SealedBox, {FIELDS} fields x {RECIPIENTS} …")
    recipients = [
        OrgPrivateKeys.generate(f"org-{i}", now).decryption_key.recipient for i in range(RECIPIENTS)
    ]
    text = ("Synthetisch veld voor de meting. " * 10).encode()[: FIELD_BYTES - 2]
    plaintexts = {f"veld_{i:02d}": b'"' + text + b'"' for i in range(FIELDS)}
    contexts = _contexts("signalering")
    case_key = new_case_key()

    costs = measure.cpu_costs(
        {
            "seal_event": _seal_event(
                contexts, plaintexts, dict.fromkeys(plaintexts, recipients), case_key
            ),
            "kept_sender": _seal_event(
                contexts,
                plaintexts,
                dict.fromkeys(plaintexts, recipients),
                case_key,
                SenderKey.generate(),
            ),
            "naive": _naive(contexts, plaintexts, recipients),
        },
        seconds=seconds,
    )
    fast, kept, naive = costs["seal_event"], costs["kept_sender"], costs["naive"]

    log("CPU per sealed event: Sealer.seal under the region's policy …")
    sealer = build_sealer(prepare(settings), now)
    heavy = [
        _sharing_seal(sealer, event_type, network, author, payload, now, seconds / 2)
        for event_type, network, author, payload in HEAVY_EVENTS
    ]
    return {
        "fields": FIELDS,
        "recipients": RECIPIENTS,
        "field_bytes": FIELD_BYTES,
        "target_us": TARGET_US,
        "seal_event": _cost(fast),
        "seal_event_kept_sender": _cost(kept),
        "naive_sealedbox": _cost(naive),
        "naive_over_seal_event": naive.median_us / fast.median_us,
        "sharing_seal": heavy,
    }


def _seal_event(
    contexts: list[EventContext],
    plaintexts: Mapping[str, bytes],
    recipients_by_field: Mapping[str, Sequence[Recipient]],
    case_key: bytes,
    sender: SenderKey | None = None,
) -> Callable[[int], object]:
    def seal(i: int) -> object:
        return seal_event(
            contexts[i % CONTEXTS], plaintexts, recipients_by_field, case_key, sender=sender
        )

    return seal


def _naive(
    contexts: list[EventContext], plaintexts: Mapping[str, bytes], recipients: list[Recipient]
) -> Callable[[int], object]:
    boxes = [SealedBox(PublicKey(r.public_key)) for r in recipients]
    encrypt = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt

    def seal(i: int) -> object:
        context = contexts[i % CONTEXTS]
        sealed = {}
        for name, plaintext in plaintexts.items():
            data_key, nonce = os.urandom(32), os.urandom(24)
            ciphertext = encrypt(plaintext, content_ad(context.field(name)), nonce, data_key)
            sealed[name] = (nonce, ciphertext, [box.encrypt(data_key) for box in boxes])
        return sealed

    return seal


def _sharing_seal(
    sealer: Sealer,
    event_type: str,
    network: Sequence[str],
    author: str,
    payload: dict[str, Any],
    now: datetime,
    seconds: float,
) -> dict[str, Any]:
    parsed = parse_payload(event_type, payload, today=now.date())
    disclosures = disclose(sealed_values(parsed)).items()
    plaintexts = {name: disclosure.encode() for name, disclosure in disclosures}
    case_id = str(uuid4())
    case_key = new_case_key()
    event_ids = [str(uuid4()) for _ in range(CONTEXTS)]

    def seal(i: int) -> casestore.services.sealing.Sealed:
        return sealer.seal(
            case_id=case_id,
            version=2 + i,
            event_id=event_ids[i % CONTEXTS],
            event_type=event_type,
            author=author,
            network=network,
            plaintexts=plaintexts,
            case_key=case_key,
            now=now,
        )

    # Once with seal_event watched: what it was given, to time it alone on the same inputs.
    given: list[Any] = []
    given_options: dict[str, Any] = {}

    def watched(*args: Any, **kwargs: Any) -> Any:
        given.extend(args)
        given_options.update(kwargs)
        return seal_event(*args, **kwargs)

    with mock.patch.object(casestore.services.sealing, "seal_event", watched):
        sealed = seal(0)
    _, sealed_plaintexts, recipients_by_field, _ = given
    costs = measure.cpu_costs(
        {
            "sharing_seal": seal,
            "seal_event": _seal_event(
                _contexts(event_type),
                sealed_plaintexts,
                recipients_by_field,
                case_key,
                given_options.get("sender"),
            ),
        },
        seconds=seconds,
    )
    whole, crypto = costs["sharing_seal"], costs["seal_event"]
    return {
        "event_type": event_type,
        "network": len(set(network)),
        "author": author,
        "content_json_bytes": sum(len(p) for p in plaintexts.values()),
        "sealed_fields": len(sealed.content),
        "grants": len(sealed.rows.grants),
        "access_rows": len(sealed.rows.access),
        "sharing_seal": _cost(whole),
        "seal_event": _cost(crypto),
    }


def _contexts(event_type: str) -> list[EventContext]:
    case_id = str(uuid4())
    return [EventContext(REGION, case_id, str(uuid4()), event_type) for _ in range(CONTEXTS)]


def _cost(result: measure.CpuCost) -> dict[str, float]:
    return {
        "best_us": result.best_us,
        "median_us": result.median_us,
        "batches": result.batches,
        "batch": result.batch,
    }
