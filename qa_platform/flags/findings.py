"""What a rule returns (:class:`Finding`) and the small text tests several rules share."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from qa_platform.domain.transcript import Role, Severity
from qa_platform.flags.call_view import CallView, PhraseHit
from qa_platform.flags.messages import render
from qa_platform.flags.rule_set import RuleParams
from qa_platform.masking import DIGIT_CHARS

_NUMBER_START = f"[{DIGIT_CHARS}\\[＊*]"  # a spoken or masked number begins here


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule found: role, time span, evidence message and, where a term says so, severity.

    The evidence is a message key of :mod:`qa_platform.flags.messages` and its parameters;
    ``evidence`` renders it in Chinese, :meth:`message` in any catalogue language.
    """

    role: Role
    start: float
    end: float
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)
    severity: Severity | None = None

    @property
    def evidence(self) -> str:
        return self.message("zh")

    def message(self, lang: str) -> str:
        return render(self.key, self.params, lang)


Rule = Callable[[CallView, RuleParams], list[Finding]]


def number_follows(hit: PhraseHit, within: int) -> bool:
    """A number (digits, Chinese numerals, a mask token) within ``within`` characters after the
    match, with only separators or 是/为 between ("工号三七五二", "后四位是零六一二")."""
    rest = hit.view.segment.text[hit.match.original_end :]
    return re.match(f"[\\s,，、:：是为]{{0,{within}}}{_NUMBER_START}", rest) is not None
