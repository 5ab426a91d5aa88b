"""The coordinators' printable case overview: `/ui/cases/{case_id}/timeline`.

The page calls the same service as the API and the CLI (casestore.services.timeline), as
the signed-in client: its organisation reads, its role decides whether it may choose
another organisation's view. The chart is SVG drawn here on the server (no script): the
care level as steps, each kader as a bar, signals and risicotaxaties as marks, meetings as
ticks on the time axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from casestore.domain.errors import CaseNotFound, ViewNotAllowed
from casestore.domain.events import EVENT_TYPES
from casestore.entrypoints.web.rendering import render
from casestore.entrypoints.web.security import PREFIX, SignedIn, services
from casestore.services.clients import ClientRole

router = APIRouter(prefix=f"{PREFIX}/cases", include_in_schema=False)

WIDTH, LEFT, RIGHT = 900, 60, 20
LEVEL_TOP, LEVEL_HEIGHT = 20, 120  # levels 1 (bottom) … 4 (top)
KADER_TOP, KADER_ROW = 170, 18


@dataclass
class Chart:
    """What the template draws, in SVG user units."""

    start: str
    end: str
    width: int = WIDTH
    height: int = 0
    level_path: str = ""
    level_marks: list[dict[str, Any]] = field(default_factory=list)
    kader_bars: list[dict[str, Any]] = field(default_factory=list)
    signals: list[dict[str, Any]] = field(default_factory=list)
    taxaties: list[dict[str, Any]] = field(default_factory=list)
    meetings: list[dict[str, Any]] = field(default_factory=list)
    axis_y: int = 0
    levels: list[dict[str, Any]] = field(default_factory=list)


def _moment(text: str) -> datetime | None:
    """A moment from the picker (a local datetime input, read as UTC) or ISO 8601."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _day_moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(str(text)[:10]), time(), UTC)
    except ValueError:
        return None


def chart(found: dict[str, Any]) -> Chart:
    """The level and kader over time, from the first entry to the moment shown."""
    as_of = datetime.fromisoformat(found["as_of"])
    moments = [datetime.fromisoformat(e["occurred_at"]) for e in found["entries"]]
    start = min(moments, default=as_of)
    end = max(as_of, start)
    span = max((end - start).total_seconds(), 1.0)
    usable = WIDTH - LEFT - RIGHT

    def x(moment: datetime) -> float:
        seconds = (min(max(moment, start), end) - start).total_seconds()
        return round(LEFT + usable * seconds / span, 1)

    def y(level: int) -> float:
        return round(LEVEL_TOP + LEVEL_HEIGHT * (4 - level) / 3, 1)

    drawn = Chart(start=start.date().isoformat(), end=end.date().isoformat())
    drawn.levels = [{"level": n, "y": y(n)} for n in (1, 2, 3, 4)]
    points: list[str] = []
    for step in found["level_history"]:
        at, level = x(datetime.fromisoformat(step["at"])), int(step["level"])
        if points:
            points.append(f"L {at} {points[-1].split()[-1]}")
        points.append(f"{'L' if points else 'M'} {at} {y(level)}")
        drawn.level_marks.append({"x": at, "y": y(level), "label": f"niveau {level}"})
    if points:
        points.append(f"L {x(end)} {points[-1].split()[-1]}")
    drawn.level_path = " ".join(points)
    for row, kader in enumerate(found["kader_history"]):
        begin = _day_moment(kader["van"]) or start
        until = _day_moment(kader["tot"]) or end
        drawn.kader_bars.append(
            {
                "x": x(begin),
                "y": KADER_TOP + row * KADER_ROW,
                "width": max(x(until) - x(begin), 2),
                "label": f"{kader['kader']} {kader['van']} – {kader['tot'] or 'open'}",
            }
        )
    axis = KADER_TOP + max(len(found["kader_history"]), 1) * KADER_ROW + 20
    drawn.axis_y = axis
    drawn.height = axis + 30
    for signal in found["signals"]:
        drawn.signals.append(
            {
                "x": x(datetime.fromisoformat(signal["at"])),
                "y": LEVEL_TOP + LEVEL_HEIGHT + 15,
                "answered": signal["answered"],
                "label": f"signalering {signal['at'][:10]}"
                + (" (beantwoord)" if signal["answered"] else " (open)"),
            }
        )
    for taxatie in found["risicotaxaties"]:
        when = _day_moment(taxatie["datum"]) or start
        drawn.taxaties.append(
            {
                "x": x(when),
                "y": LEVEL_TOP + LEVEL_HEIGHT + 15,
                "label": f"risicotaxatie {taxatie['datum']}",
            }
        )
    for meeting in found["overleggen"]:
        drawn.meetings.append(
            {
                "x": x(datetime.fromisoformat(meeting["at"])),
                "label": f"{meeting['soort']} {meeting['at'][:10]}",
            }
        )
    return drawn


def shown(value: Any) -> str:
    """A field's value as page text: withheld and sealed fields say so, with the rule."""
    if isinstance(value, dict) and value.get("withheld"):
        return f"afgeschermd (regel: {value.get('rule')})"
    if isinstance(value, dict) and value.get("sealed"):
        return "verzegeld (niet door de dienst te openen)"
    if value is None:
        return "—"
    if isinstance(value, list):
        return "; ".join(shown(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {shown(v)}" for k, v in value.items())
    return str(value)


@router.get("/{case_id}/timeline")
def timeline_page(
    request: Request,
    session: SignedIn,
    case_id: UUID,
    as_of: str = "",
    known: bool = False,
    view: str = "",
    event_type: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    """The case at the chosen moment, for printing: chart, plan, network, entries."""
    timelines = services(request).timelines
    client = session.client
    error, status_code, found = None, 200, None
    try:
        if client.role is ClientRole.auditor:
            raise ViewNotAllowed("an auditor reads the audit trail, not the cases")
        if view and view != client.org_id:
            timelines.check_view(client.org_id, client.role, view)
        found = timelines.timeline(
            client.org_id,
            case_id,
            as_of=_moment(as_of),
            known=known,
            view=view or None,
            event_types=[event_type] if event_type else (),
            since=_day_moment(since),
            until=_day_moment(until),
        )
    except ViewNotAllowed as exc:
        error, status_code = str(exc), 403
    except CaseNotFound:
        error, status_code = "Deze casus bestaat niet of uw organisatie ontvangt er niets van.", 404
    return render(
        request,
        "timeline.html",
        status_code=status_code,
        session=session,
        case_id=str(case_id),
        found=found,
        drawn=chart(found) if found else None,
        error=error,
        shown=shown,
        chosen={
            "as_of": found["as_of"][:16] if found else as_of,
            "known": known,
            "view": view,
            "event_type": event_type,
            "since": since,
            "until": until,
        },
        event_types=sorted(EVENT_TYPES),
        organisations=sorted(services(request).sealer.matrix.organisations),
    )
