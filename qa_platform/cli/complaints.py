"""``qa complaints``: the complaint closed loop (投诉闭环) from the command line.

Every subcommand calls one command of :mod:`qa_platform.services.complaints`; ``--json`` prints
the case (or the list of cases) as documented in docs/cli.md.
"""

from __future__ import annotations

import click

from qa_platform.cli import ID, emit, platform
from qa_platform.domain.complaints import CaseState, ComplaintKind

KINDS = click.Choice([k.value for k in ComplaintKind])
STATES = click.Choice([s.value for s in CaseState])


def _line(case: dict[str, object]) -> str:
    late = " 超时" if case["overdue"] else ""
    return (
        f"#{case['id']} {case['kind']} {case['state']}{late} calls={case['call_ids']} "
        f"deadline={case['deadline_at']}"
    )


@click.group()
def complaints() -> None:
    """Complaint cases: list, open, confirm, dismiss, close, scan."""


@complaints.command("list")
@click.option("--state", type=STATES, default=None, help="Only cases in this state.")
@click.option("--overdue", is_flag=True, help="Only unresolved cases past their deadline.")
@click.option("--json", "as_json", is_flag=True)
def complaints_list(state: str | None, overdue: bool, as_json: bool) -> None:
    """Cases, newest first."""
    from qa_platform.services.complaints import list_cases

    cases = [c.to_dict() for c in list_cases(platform(), state=state, overdue=overdue)]
    emit(cases, as_json, "\n".join(_line(c) for c in cases) or "no complaint cases")


@complaints.command("open")
@click.option("--call", "call_ids", type=ID, multiple=True, required=True, help="Repeatable.")
@click.option("--kind", type=KINDS, default="complaint", show_default=True)
@click.option("--summary", required=True, help="What the customer complains about.")
@click.option("--actor", default="cli", help="Who opens it (recorded in the audit log).")
@click.option("--json", "as_json", is_flag=True)
def complaints_open(
    call_ids: tuple[int, ...], kind: str, summary: str, actor: str, as_json: bool
) -> None:
    """Open a case on calls (受理); the calls move to 5-year retention; supervisors alerted."""
    from qa_platform.services.complaints import open_case

    case = open_case(platform(), list(call_ids), kind, summary, actor).to_dict()
    emit(case, as_json, _line(case))


@complaints.command("confirm")
@click.argument("case_id", type=ID)
@click.option("--kind", type=KINDS, default=None, help="Re-classify while confirming.")
@click.option("--actor", default="cli")
@click.option("--json", "as_json", is_flag=True)
def complaints_confirm(case_id: int, kind: str | None, actor: str, as_json: bool) -> None:
    """Confirm a case the rules proposed (立案)."""
    from qa_platform.services.complaints import confirm_case

    case = confirm_case(platform(), case_id, actor, kind=kind).to_dict()
    emit(case, as_json, _line(case))


@complaints.command("dismiss")
@click.argument("case_id", type=ID)
@click.option("--reason", required=True)
@click.option("--actor", default="cli")
@click.option("--json", "as_json", is_flag=True)
def complaints_dismiss(case_id: int, reason: str, actor: str, as_json: bool) -> None:
    """Dismiss a proposed case that is no complaint."""
    from qa_platform.services.complaints import dismiss_case

    case = dismiss_case(platform(), case_id, reason, actor).to_dict()
    emit(case, as_json, _line(case))


@complaints.command("close")
@click.argument("case_id", type=ID)
@click.option("--outcome", required=True, help="处理结果 (required).")
@click.option("--actor", default="cli")
@click.option("--json", "as_json", is_flag=True)
def complaints_close(case_id: int, outcome: str, actor: str, as_json: bool) -> None:
    """Close an open case (结案) with its outcome."""
    from qa_platform.services.complaints import close_case

    case = close_case(platform(), case_id, outcome, actor).to_dict()
    emit(case, as_json, _line(case))


@complaints.command("scan")
@click.option("--json", "as_json", is_flag=True)
def complaints_scan(as_json: bool) -> None:
    """Propose cases from complaint_risk flags and send pending alerts (cron: every minute)."""
    from qa_platform.services.complaints import scan

    result = scan(platform()).to_dict()
    emit(
        result,
        as_json,
        f"proposed {len(result['proposed'])}, alerted {len(result['alerted'])}, "
        f"failed {len(result['failed'])}",
    )
