"""Supervisor alerts (投诉预警) through a pluggable notifier.

seeds/003 二(一)4: a complaint risk reaches a supervisor quickly. A :class:`Notifier` delivers
one :class:`ComplaintAlert`; :func:`notifier_for` picks e-mail through SMTP when ``QA_SMTP_HOST``
is set, else a log line (the web list of alerts shows every case either way). A notifier raises
:class:`AlertNotSent` when delivery failed; the case then stays unalerted and the next scan
tries again.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from typing import Protocol

from qa_platform.settings import Settings

log = logging.getLogger(__name__)

KIND_ZH = {"grievance": "抱怨", "complaint": "一般投诉", "major": "重大投诉"}


class AlertNotSent(RuntimeError):
    """The notifier could not deliver the alert (retried by the next scan)."""


@dataclass(frozen=True)
class ComplaintAlert:
    """What a supervisor is told about a new case (no transcript text: it names the calls)."""

    case_id: int
    kind: str
    state: str
    call_ids: tuple[int, ...]
    deadline_at: str
    summary: str

    @property
    def subject(self) -> str:
        return f"【投诉预警】{KIND_ZH.get(self.kind, self.kind)}工单 #{self.case_id}"

    @property
    def body(self) -> str:
        calls = "、".join(str(c) for c in self.call_ids)
        return (
            f"工单 #{self.case_id}（{KIND_ZH.get(self.kind, self.kind)}，状态 {self.state}）\n"
            f"关联通话：{calls}\n处理时限：{self.deadline_at}\n摘要：{self.summary}\n"
            "请登录质检平台“投诉工单”页面处理。"
        )

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class Notifier(Protocol):
    """Delivers one alert; ``channel`` names how (stored on the case)."""

    channel: str

    def send(self, alert: ComplaintAlert) -> None: ...


class LogNotifier:
    """Writes the alert as a warning log line (the embedded default)."""

    channel = "log"

    def send(self, alert: ComplaintAlert) -> None:
        log.warning("complaint alert: %s %s", alert.subject, alert.to_dict())


class SmtpNotifier:
    """E-mails the alert to the supervisors on duty (``QA_COMPLAINT_ALERT_TO``)."""

    channel = "smtp"

    def __init__(self, settings: Settings, timeout_s: float = 10.0) -> None:
        self.settings, self.timeout_s = settings, timeout_s

    def message(self, alert: ComplaintAlert) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"], msg["From"] = alert.subject, self.settings.smtp_from
        msg["To"] = ", ".join(self.settings.complaint_alert_to)
        msg.set_content(alert.body)
        return msg

    def send(self, alert: ComplaintAlert) -> None:
        s = self.settings
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=self.timeout_s) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password)
                smtp.send_message(self.message(alert))
        except (OSError, smtplib.SMTPException) as exc:
            raise AlertNotSent(f"SMTP {s.smtp_host}:{s.smtp_port}: {exc}") from exc


def notifier_for(settings: Settings) -> Notifier:
    """SMTP when a host is configured, else the log."""
    return SmtpNotifier(settings) if settings.smtp_host else LogNotifier()
