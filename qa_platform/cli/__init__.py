"""The ``qa`` console script. Commands are thin: parse, call one service, print, exit code.

Every command that returns data has ``--json``; that JSON is a stable contract (docs/cli.md).
Exit codes: 0 success, 1 some inputs were rejected (batch commands), 2 bad usage or input.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import click

from qa_platform.domain.pipeline import Dispatch, Stage
from qa_platform.settings import Settings, SettingsError, get_settings

DB_INT_MAX = 2**63 - 1  # the largest id a 64-bit database column holds


class FiniteFloat(click.FloatRange):
    """A float option that refuses NaN and infinity (and values outside ``min..max``)."""

    name = "finite float"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, str) and len(value.strip()) > 32:
            self.fail(f"{value[:40]!r}... is too long to be a number", param, ctx)
        number = super().convert(value, param, ctx)
        if number is not None and not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


ID = click.IntRange(1, DB_INT_MAX)  # a database id
COUNT = click.IntRange(0, 10_000_000)  # sizes, quotas, limits
SEED = click.IntRange(0, DB_INT_MAX)
SECONDS = FiniteFloat(min=0.0, max=10 * 365 * 86400.0)
FRACTION = FiniteFloat(min=0.0, max=1.0, min_open=True, max_open=True)


def emit(data: Any, as_json: bool, text: str | None = None) -> None:
    """Print ``data`` as JSON (UTF-8, Chinese kept readable) or ``text`` for people."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str, allow_nan=False))
    elif text is not None:
        click.echo(text)


def platform() -> Any:
    """The composition root of a ``qa`` command: settings read and validated once, pipeline
    work sent through the Celery app of ``workers`` (eager in the embedded default)."""
    from qa_platform.services.context import Platform

    try:
        settings = get_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    return Platform(settings, dispatch=_celery_dispatch(settings))


def _celery_dispatch(settings: Settings) -> Dispatch:
    """Send a stage through the worker package's Celery app, imported on first send only
    (commands that send nothing never load Celery)."""

    def dispatch(stage: Stage, call_id: int, pipeline_version: str) -> None:
        from workers.celery_app import dispatcher

        dispatcher(settings)(stage, call_id, pipeline_version)

    return dispatch


class QaGroup(click.Group):
    """Maps expected domain errors to a clear message and exit code 2 (no traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        from qa_platform.domain.errors import QaError

        _configure_logging()
        try:
            return super().invoke(ctx)
        except QaError as exc:
            lang = _lang()
            click.echo(f"{'错误' if lang == 'zh' else 'error'}: {exc.localized(lang)}", err=True)
            sys.exit(2)


def _lang() -> str:
    """The language of messages (``QA_LANG``, Chinese by default)."""
    try:
        return get_settings().lang
    except SettingsError:
        return "zh"


def _configure_logging() -> None:
    """The CLI's logging (``QA_LOG_LEVEL``, ``QA_LOG_FORMAT``); a bad setting is reported by
    the command that reads the settings, so it is not an error here."""
    from qa_platform.logs import configure_logging

    try:
        settings = get_settings()
    except SettingsError:
        return
    configure_logging(settings.log_level, settings.log_format)


@click.group(cls=QaGroup)
@click.version_option(package_name="qa-platform")
def main() -> None:
    """Call quality inspection (质检) and speech analytics platform."""


def _register() -> None:
    from qa_platform.cli import (
        autoqa,
        coaching,
        complaints,
        core,
        demo,
        flags,
        pipeline,
        reports,
        scoring,
        surveys,
        web,
    )

    for module in (core, demo, pipeline, scoring, web):
        for command in module.COMMANDS:
            main.add_command(command)
    main.add_command(flags.flags)
    main.add_command(reports.report)
    main.add_command(complaints.complaints)
    main.add_command(autoqa.autoqa)
    main.add_command(surveys.surveys)
    main.add_command(surveys.business_lines)
    core.users.add_command(web.token_command)
    main.add_command(coaching.coaching)
    core.users.add_command(coaching.hire_date)
    core.users.add_command(coaching.team_lead)


_register()
