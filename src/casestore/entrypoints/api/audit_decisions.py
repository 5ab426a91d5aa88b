"""What each API operation leaves in the audit trail: one line per operation.

Every operation in the OpenAPI document has a decision here, and a test fails for one
that has none (tests/e2e/test_audit_trail.py): either the actions its success chains, or
`NO_CASE_DATA` for an operation that processes no case data. An operation added without
deciding is a gap in the trail, so the decision is part of adding it.
"""

from __future__ import annotations

from casestore.services.audit import (
    AUDIT_ACCESS_REVIEW,
    AUDIT_BLAST_RADIUS,
    AUDIT_PROTOCOL,
    AUDIT_READ,
    CASE_READ,
    EVENT_RECORDED,
    FEED_READ,
    GRANT_CREATED,
    MEETING_PACK_EXPORTED,
    POLICY_CHANGED,
    POLICY_EXPLAINED,
    RESTRICTION_LIFTED,
    RESTRICTION_RECORDED,
    SEARCH_BSN,
    SEARCH_CASE,
    STREAM_DELIVERED,
    TIMELINE_READ,
    WORKLIST_READ,
)

NO_CASE_DATA: tuple[str, ...] = ()

DECISIONS: dict[str, tuple[str, ...]] = {
    "healthz": NO_CASE_DATA,
    "readyz": NO_CASE_DATA,
    "open_case": (EVENT_RECORDED, GRANT_CREATED),
    "append_event": (EVENT_RECORDED, GRANT_CREATED),
    "read_events": (CASE_READ,),  # case.decrypted with ?decrypt=true
    "read_event": (CASE_READ,),  # case.decrypted with ?decrypt=true
    "read_timeline": (TIMELINE_READ,),
    "check_bekendheid": (SEARCH_CASE,),
    "read_feed": (FEED_READ,),
    "stream_feed": (STREAM_DELIVERED,),
    "read_policy": NO_CASE_DATA,
    "explain": (POLICY_EXPLAINED,),
    "read_keys": NO_CASE_DATA,
    "confirm_key_generation": NO_CASE_DATA,  # the reconcile it sets off chains grant.revoked
    "list_versions": NO_CASE_DATA,
    "read_version": NO_CASE_DATA,
    # A proposal's impact counts stored grants per organisation and lists pseudonymous case
    # ids; it reads no content and no person. Approval is the change, and its re-seal job
    # chains grant.created / grant.revoked per case as any reconciliation does.
    "create_proposal": NO_CASE_DATA,
    "create_rule_edit_proposal": NO_CASE_DATA,
    "list_proposals": NO_CASE_DATA,
    "read_proposal": NO_CASE_DATA,
    "approve_proposal": (POLICY_CHANGED,),
    "reject_proposal": NO_CASE_DATA,
    "read_job": NO_CASE_DATA,
    "explain_decision": (POLICY_EXPLAINED,),
    # Holds, verklaringen and figures hold no content and nothing that identifies the
    # person; a destruction itself chains case.shredded with the grants it revokes.
    "place_legal_hold": NO_CASE_DATA,
    "list_legal_holds": NO_CASE_DATA,
    "release_legal_holds": NO_CASE_DATA,
    "read_verklaring": NO_CASE_DATA,
    "read_figures": NO_CASE_DATA,
    "read_notices": NO_CASE_DATA,  # positions and field names of the caller's own grants
    "read_audit": (AUDIT_READ,),
    "subject_report": (SEARCH_BSN,),  # search.name or search.case when asked that way
    # Reports drawn from the trail name no content; each leaves one entry about itself.
    "verstrekkingsprotocol": (AUDIT_PROTOCOL,),
    "blast_radius": (AUDIT_BLAST_RADIUS,),
    "access_review": (AUDIT_ACCESS_REVIEW,),
    "restrict_subject_report": (RESTRICTION_RECORDED,),  # under the pseudonym, not the BSN
    "lift_restriction": (RESTRICTION_LIFTED,),
    "list_subscriptions": NO_CASE_DATA,
    "create_subscription": NO_CASE_DATA,  # deliveries are chained as webhook.delivered
    "read_subscription": NO_CASE_DATA,
    "delete_subscription": NO_CASE_DATA,
    "list_deliveries": NO_CASE_DATA,  # positions and event ids of attempts, no content
    "resume_subscription": NO_CASE_DATA,
    # The worklist reads the readable part of events only: one entry per list, and a
    # search by BSN or case id one more (search.bsn under the pseudonym, search.case).
    "read_worklist": (WORKLIST_READ,),
    # A meeting names the cases on its agenda and the attendees; no content until a pack.
    "create_meeting": NO_CASE_DATA,
    "list_meetings": NO_CASE_DATA,
    "read_meeting": NO_CASE_DATA,
    # A pack or its PDF: one entry per case, the attendee as receiver, the fields it holds.
    "read_pack": (MEETING_PACK_EXPORTED,),
    "export_pack_pdf": (MEETING_PACK_EXPORTED,),
    "record_minutes": (EVENT_RECORDED, GRANT_CREATED),
}
