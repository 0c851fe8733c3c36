"""Use cases of sampling, assignment, evaluation, appeals and calibration over the database.

Every function takes a unit of work (not yet entered), runs one transaction, writes one audit
event per state change and commits. Domain rules live in ``scoring.*``; these modules load
rows, call the domain and write the result back:

``plans`` (抽样方案), ``runs`` (抽样), ``scorecards`` (评分表), ``assignment`` (分配),
``evaluations`` (质检评价 / 申诉 / 复议: the one write path of an evaluation), ``calibration``
(校准), ``details`` (the scoring section of ``qa call show``), ``common`` (who acts, audit).
"""

from __future__ import annotations

from scoring.calibration import CalibrationError
from scoring.services.assignment import assign_run, reassign_away
from scoring.services.calibration import (
    CalibrationClosed,
    calibration_report,
    close_calibration,
    create_calibration,
    record_calibration_scores,
)
from scoring.services.common import (
    OPEN_STATES,
    ConcurrentUpdateError,
    NotFoundError,
    StaleForm,
    actor_for,
    centre_timezone,
    resolve_user_id,
)
from scoring.services.details import call_scoring_detail
from scoring.services.evaluations import (
    EvaluationUnit,
    add_comment,
    approve_evaluation,
    assign_appeal_reviewer,
    close_appeal_windows,
    decide_appeal,
    evaluation_detail,
    file_appeal,
    list_evaluations,
    publish_evaluation,
    reopen_evaluation,
    return_evaluation,
    save_scores,
    show_evaluation,
    start_evaluation,
    submit_evaluation,
)
from scoring.services.plans import get_plan, list_plans, save_plan
from scoring.services.runs import load_frame, run_sampling, run_summary, show_run, verify_run
from scoring.services.scorecards import ensure_scorecard

__all__ = [
    "OPEN_STATES",
    "CalibrationClosed",
    "CalibrationError",
    "ConcurrentUpdateError",
    "EvaluationUnit",
    "NotFoundError",
    "StaleForm",
    "actor_for",
    "add_comment",
    "approve_evaluation",
    "assign_appeal_reviewer",
    "assign_run",
    "calibration_report",
    "call_scoring_detail",
    "centre_timezone",
    "close_appeal_windows",
    "close_calibration",
    "create_calibration",
    "decide_appeal",
    "ensure_scorecard",
    "evaluation_detail",
    "file_appeal",
    "get_plan",
    "list_evaluations",
    "list_plans",
    "load_frame",
    "publish_evaluation",
    "reassign_away",
    "record_calibration_scores",
    "reopen_evaluation",
    "resolve_user_id",
    "return_evaluation",
    "run_sampling",
    "run_summary",
    "save_plan",
    "save_scores",
    "show_evaluation",
    "show_run",
    "start_evaluation",
    "submit_evaluation",
    "verify_run",
]
