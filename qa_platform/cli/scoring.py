"""``qa plan | sample | assign | eval | appeal | calibration``: scripting for supervisors.

Thin commands: parse, call one service in ``scoring.services`` (for evaluations the same
commands the web pages call), print. ``--json`` output is a stable contract documented in
docs/cli.md ("Scoring commands"). ``--as USER`` (or ``QA_ACTOR``) names who acts, by username
or id; the role stored for that user decides what is allowed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click
import yaml

from qa_platform import safe_yaml
from qa_platform.cli import COUNT, FRACTION, ID, SECONDS, SEED, emit, platform

actor_option = click.option(
    "--as",
    "actor",
    envvar="QA_ACTOR",
    required=True,
    help="Who acts (username or id); env QA_ACTOR.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the JSON contract.")


def _svc():
    from scoring import services

    return services


def _uow():
    return platform().uow()


def _scores(raw: str) -> dict[str, Any]:
    """Item scores from JSON text or ``@file`` (JSON or YAML)."""
    text = Path(raw[1:]).read_text(encoding="utf-8") if raw.startswith("@") else raw
    try:
        data = safe_yaml.load(text, "scores")
    except safe_yaml.UnsafeYaml as exc:
        raise click.BadParameter(f"scores are not valid JSON/YAML: {exc}") from None
    if not isinstance(data, dict):
        raise click.BadParameter(
            'scores must be a mapping like {"answer_accuracy": 20, "empathy": "na"}'
        )
    return data


def _period(raw: str) -> tuple[date, date]:
    try:
        start, end = raw.split("..", 1)
        return date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise click.BadParameter(f"period {raw!r} must look like 2026-03-01..2026-03-31") from None


def _result_text(data: dict[str, Any]) -> str:
    return f"evaluation {data['evaluation_id']}: {data['action']} → {data['state']}"


# ---------------------------------------------------------------------------- plan
@click.group()
def plan() -> None:
    """Sampling plans (抽样方案): stored and versioned."""


@plan.command("save")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@actor_option
@json_option
def plan_save(file: Path, actor: str, as_json: bool) -> None:
    """Store FILE (YAML/JSON plan) as the next version of its name."""
    try:
        data = safe_yaml.load(file.read_text(encoding="utf-8"), str(file))
    except safe_yaml.UnsafeYaml as exc:
        raise click.BadParameter(str(exc)) from None
    if not isinstance(data, dict):
        raise click.BadParameter(f"{file} does not hold a plan mapping")
    data.pop("version", None)
    out = _svc().save_plan(_uow(), data, actor=actor)
    emit(out, as_json, f"plan {out['name']} version {out['version']} saved")


@plan.command("show")
@click.argument("name")
@click.option("--version", type=ID)
@json_option
def plan_show(name: str, version: int | None, as_json: bool) -> None:
    """Show a plan (latest version unless --version)."""
    out = _svc().get_plan(_uow(), name, version)
    emit(out, as_json, yaml.safe_dump(out, allow_unicode=True, sort_keys=False))


@plan.command("list")
@json_option
def plan_list(as_json: bool) -> None:
    """Plan names with their latest version."""
    out = _svc().list_plans(_uow())
    emit(out, as_json, "\n".join(f"{p['name']} v{p['version']}" for p in out) or "no plans")


# ---------------------------------------------------------------------------- sample
@click.group()
def sample() -> None:
    """Sampling runs: freeze the frame, draw reproducibly."""


@sample.command("run")
@click.option("--plan", "plan_name", help="Run a stored plan.")
@click.option("--period", help="Ad-hoc plan: A..B (dates, inclusive, centre time).")
@click.option("--size", type=COUNT, help="Ad-hoc plan: number of calls.")
@click.option("--margin", type=FRACTION, help="Ad-hoc plan: margin of error instead of --size.")
@click.option("--confidence", type=FRACTION, default=0.95, show_default=True)
@click.option(
    "--method",
    default="simple_random",
    show_default=True,
    type=click.Choice(
        ["simple_random", "stratified_proportional", "stratified_neyman", "agent_quota", "targeted"]
    ),
)
@click.option("--stratify-by", type=click.Choice(["agent", "team", "business_type", "direction"]))
@click.option("--quota", type=COUNT, help="agent_quota: calls per agent.")
@click.option("--flag", "flags", multiple=True, help="targeted: flag type (repeat).")
@click.option("--per-type-limit", type=COUNT)
@click.option("--include-unanalysed", is_flag=True, help="Do not require status 'analysed'.")
@click.option("--seed", type=SEED, help="Seed (default: random, recorded in the run).")
@click.option("--as", "actor", envvar="QA_ACTOR")
@json_option
def sample_run(
    plan_name: str | None,
    period: str | None,
    seed: int | None,
    actor: str | None,
    as_json: bool,
    **opts: Any,
) -> None:
    """Run a plan: prints {run_id, frame_size, frame_hash, seed, method, call_ids}."""
    if bool(plan_name) == bool(period):
        raise click.UsageError("give either --plan NAME or --period A..B")
    target: Any = plan_name or _adhoc_plan(period or "", opts)
    out = _svc().run_sampling(_uow(), target, seed=seed, actor=actor)
    emit(
        out,
        as_json,
        f"run {out['run_id']}: {out['sample_size']} of {out['frame_size']} calls "
        f"(seed {out['seed']}, frame {out['frame_hash'][:12]}…)",
    )


def _adhoc_plan(period: str, opts: dict[str, Any]):
    from scoring.plan import PlanFilters, SamplingPlan
    from scoring.sampling import Stream

    start, end = _period(period)
    targeted = opts["method"] == "targeted"
    if (
        not targeted
        and opts["size"] is None
        and opts["margin"] is None
        and opts["method"] != "agent_quota"
    ):
        raise click.UsageError("an ad-hoc plan needs --size N or --margin E")
    return SamplingPlan(
        name="adhoc",
        stream=Stream.TARGETED if targeted else Stream.RANDOM,
        method=opts["method"],
        filters=PlanFilters(
            period_start=start, period_end=end, analysed_only=not opts["include_unanalysed"]
        ),
        size=opts["size"],
        margin=opts["margin"],
        confidence=opts["confidence"],
        per_agent_quota=opts["quota"],
        stratify_by=opts["stratify_by"],
        flag_types=tuple(opts["flags"]),
        per_type_limit=opts["per_type_limit"],
    ).validate()


@sample.command("show")
@click.argument("run_id", type=ID)
@json_option
def sample_show(run_id: int, as_json: bool) -> None:
    """Show a stored run with its calls in draw order."""
    out = _svc().show_run(_uow(), run_id)
    emit(
        out,
        as_json,
        f"run {run_id}: {out['method']} seed {out['seed']} frame {out['frame_size']} "
        f"→ {out['call_ids']}",
    )


@sample.command("verify")
@click.argument("run_id", type=ID)
@json_option
def sample_verify(run_id: int, as_json: bool) -> None:
    """Re-freeze the frame and redraw: is the run still reproducible?"""
    out = _svc().verify_run(_uow(), run_id)
    emit(
        out,
        as_json,
        f"frame unchanged: {out['frame_unchanged']}, same sample: {out['sample_identical']}",
    )


# ---------------------------------------------------------------------------- assign
@click.group()
def assign() -> None:
    """Give sampled calls to inspectors."""


@assign.command("run")
@click.argument("run_id", type=ID)
@click.option("--inspector", "inspectors", type=ID, multiple=True, help="Only these (repeat).")
@click.option(
    "--allow-own-team", is_flag=True, help="Allow inspectors to get their own team's calls."
)
@click.option("--scorecard", help="Scorecard name (default: the built-in insurance card).")
@actor_option
@json_option
def assign_run(
    run_id: int,
    inspectors: tuple[int, ...],
    allow_own_team: bool,
    scorecard: str | None,
    actor: str,
    as_json: bool,
) -> None:
    """Assign the calls of RUN_ID, least loaded inspector first."""
    out = _svc().assign_run(
        _uow(), run_id, actor, inspectors or None, not allow_own_team, scorecard
    )
    emit(out, as_json, f"{len(out['assigned'])} calls assigned")


@assign.command("away")
@click.argument("inspector")
@actor_option
@json_option
def assign_away(inspector: str, actor: str, as_json: bool) -> None:
    """INSPECTOR is away: move their open evaluations to the others."""
    svc = _svc()
    out = svc.reassign_away(_uow(), svc.resolve_user_id(_uow(), inspector), actor)
    emit(out, as_json, f"{len(out['moved'])} evaluations moved")


# ---------------------------------------------------------------------------- eval
@click.group("eval")
def eval_() -> None:
    """Evaluations (质检评价): score, submit, review, publish."""


@eval_.command("list")
@click.option("--inspector")
@click.option("--state")
@json_option
def eval_list(inspector: str | None, state: str | None, as_json: bool) -> None:
    """The work queue."""
    out = _svc().list_evaluations(_uow(), inspector, state)
    emit(
        out,
        as_json,
        "\n".join(f"{e['evaluation_id']} call {e['call_id']} {e['state']}" for e in out),
    )


@eval_.command("show")
@click.argument("evaluation_id", type=ID)
@click.option(
    "--as", "actor", envvar="QA_ACTOR", help="Viewer (a blind reviewer does not see the inspector)."
)
@json_option
def eval_show(evaluation_id: int, actor: str | None, as_json: bool) -> None:
    """An evaluation with its versions and appeals."""
    out = _svc().show_evaluation(_uow(), evaluation_id, actor)
    emit(out, as_json, f"evaluation {evaluation_id}: {out['state']} total {out['total']}")


def _simple(name: str, service: str, doc: str) -> click.Command:
    @click.command(name, help=doc)
    @click.argument("evaluation_id", type=ID)
    @actor_option
    @json_option
    def command(evaluation_id: int, actor: str, as_json: bool) -> None:
        out = getattr(_svc(), service)(_uow(), evaluation_id, actor, at=platform().clock.now())
        emit(out, as_json, _result_text(out))

    return command


for _name, _service, _doc in [
    ("start", "start_evaluation", "Open an assigned evaluation (inspector)."),
    ("submit", "submit_evaluation", "Submit a complete draft for review (inspector)."),
    ("reopen", "reopen_evaluation", "Rework a returned evaluation (inspector)."),
    ("approve", "approve_evaluation", "Approve after review (supervisor)."),
    (
        "publish",
        "publish_evaluation",
        "Publish to the agent; opens the appeal window (supervisor).",
    ),
]:
    eval_.add_command(_simple(_name, _service, _doc))


@eval_.command("save")
@click.argument("evaluation_id", type=ID)
@click.option(
    "--scores", required=True, help='JSON/YAML mapping or @file: {"answer_accuracy": 20, ...}'
)
@actor_option
@json_option
def eval_save(evaluation_id: int, scores: str, actor: str, as_json: bool) -> None:
    """Save draft item scores (points, "na", or true/false for red lines)."""
    out = _svc().save_scores(
        _uow(), evaluation_id, actor, _scores(scores), at=platform().clock.now()
    )
    emit(out, as_json, _result_text(out))


@eval_.command("comment")
@click.argument("evaluation_id", type=ID)
@click.option(
    "--at", "at_s", type=SECONDS, required=True, help="Seconds from the start of the call."
)
@click.option("--text", required=True)
@click.option("--item", help="Scorecard item code.")
@actor_option
@json_option
def eval_comment(
    evaluation_id: int, at_s: float, text: str, item: str | None, actor: str, as_json: bool
) -> None:
    """Pin a comment to a moment of the call."""
    out = _svc().add_comment(
        _uow(), evaluation_id, actor, at_s, text, item, at=platform().clock.now()
    )
    emit(out, as_json, _result_text(out))


@eval_.command("return")
@click.argument("evaluation_id", type=ID)
@click.option("--reason", required=True)
@actor_option
@json_option
def eval_return(evaluation_id: int, reason: str, actor: str, as_json: bool) -> None:
    """Return to the inspector with a reason (退回)."""
    out = _svc().return_evaluation(_uow(), evaluation_id, actor, reason, at=platform().clock.now())
    emit(out, as_json, _result_text(out))


@eval_.command("close-windows")
@json_option
def eval_close_windows(as_json: bool) -> None:
    """Make final every published evaluation whose appeal window has passed."""
    out = _svc().close_appeal_windows(_uow(), at=platform().clock.now())
    emit(out, as_json, f"{len(out['closed'])} evaluations final")


# ---------------------------------------------------------------------------- appeal
@click.group()
def appeal() -> None:
    """Appeals (申诉) and their review (复议)."""


@appeal.command("file")
@click.argument("evaluation_id", type=ID)
@click.option("--reason", required=True)
@click.option("--item", "items", multiple=True, required=True, help="Disputed item code (repeat).")
@actor_option
@json_option
def appeal_file(
    evaluation_id: int, reason: str, items: tuple[str, ...], actor: str, as_json: bool
) -> None:
    """The evaluated agent appeals within the window."""
    out = _svc().file_appeal(_uow(), evaluation_id, actor, reason, items, at=platform().clock.now())
    emit(out, as_json, _result_text(out))


@appeal.command("assign")
@click.argument("evaluation_id", type=ID)
@click.argument("reviewer")
@actor_option
@json_option
def appeal_assign(evaluation_id: int, reviewer: str, actor: str, as_json: bool) -> None:
    """Name the reviewer (never the original inspector)."""
    out = _svc().assign_appeal_reviewer(
        _uow(), evaluation_id, actor, reviewer, at=platform().clock.now()
    )
    emit(out, as_json, _result_text(out))


@appeal.command("decide")
@click.argument("evaluation_id", type=ID)
@click.option("--decision", type=click.Choice(["upheld", "revised"]), required=True)
@click.option("--scores", help="revised: changed item scores (JSON/YAML or @file).")
@click.option("--note", default="")
@actor_option
@json_option
def appeal_decide(
    evaluation_id: int, decision: str, scores: str | None, note: str, actor: str, as_json: bool
) -> None:
    """Uphold, or revise (a new version; the old one is kept)."""
    out = _svc().decide_appeal(
        _uow(),
        evaluation_id,
        actor,
        decision,
        note,
        _scores(scores) if scores else None,
        at=platform().clock.now(),
    )
    emit(out, as_json, _result_text(out))


# ---------------------------------------------------------------------------- calibration
@click.group()
def calibration() -> None:
    """Calibration sessions (校准): agreement between inspectors."""


@calibration.command("create")
@click.argument("name")
@click.option("--call", "calls", type=ID, multiple=True, required=True)
@click.option("--inspector", "inspectors", type=ID, multiple=True, required=True)
@click.option("--reference", type=ID, help="User id whose scores are the reference.")
@click.option("--scorecard")
@actor_option
@json_option
def calibration_create(
    name: str,
    calls: tuple[int, ...],
    inspectors: tuple[int, ...],
    reference: int | None,
    scorecard: str | None,
    actor: str,
    as_json: bool,
) -> None:
    """Open a session over CALLs for INSPECTORs."""
    out = _svc().create_calibration(_uow(), name, calls, inspectors, actor, reference, scorecard)
    emit(out, as_json, f"calibration session {out['session_id']} created")


@calibration.command("score")
@click.argument("session_id", type=ID)
@click.argument("call_id", type=ID)
@click.option("--scores", required=True)
@actor_option
@json_option
def calibration_score(
    session_id: int, call_id: int, scores: str, actor: str, as_json: bool
) -> None:
    """Record the acting user's scores for one call of the session."""
    out = _svc().record_calibration_scores(_uow(), session_id, actor, call_id, _scores(scores))
    emit(out, as_json, f"{out['items']} items recorded")


@calibration.command("close")
@click.argument("session_id", type=ID)
@actor_option
@json_option
def calibration_close(session_id: int, actor: str, as_json: bool) -> None:
    """Close the session: its scores no longer change (the page's 结束校准会)."""
    out = _svc().close_calibration(_uow(), session_id, actor)
    emit(out, as_json, f"calibration session {session_id} closed")


@calibration.command("report")
@click.argument("session_id", type=ID)
@json_option
def calibration_report(session_id: int, as_json: bool) -> None:
    """Agreement per item and deviation per inspector."""
    out = _svc().calibration_report(_uow(), session_id)
    lines = [
        f"{i['item_code']}: fleiss={i['fleiss_kappa']} icc={i['icc_2_1']}" for i in out["items"]
    ]
    lines += [
        f"inspector {d['inspector_id']}: mean dev {d['mean_deviation']:+.2f}"
        for d in out["inspectors"]
    ]
    emit(out, as_json, "\n".join(lines))


COMMANDS = [plan, sample, assign, eval_, appeal, calibration]
