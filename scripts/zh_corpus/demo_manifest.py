"""Write the ingest manifest of the Chinese demo from the built Mandarin corpus.

Picks a handful of dialogues that show what the platform does on Mandarin calls (a compliant
call, a missing identity check, a missing 工号, a missing closing, a complaint that names the
regulator, abuse by the agent, a misleading promise, a long hold) and writes a CSV that
``qa ingest --manifest`` / ``qa demo --manifest`` read: the stereo 8 kHz μ-law recording (agent
left), its agent, team, direction, business type and start time. Standard library only: runs
in the platform's environment after ``scripts/zh_corpus/build.sh --only …`` built the audio.

    python scripts/zh_corpus/demo_manifest.py OUT.csv [--corpus DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

# dialogue id, agent code, team; the agents match the demo people `qa demo` creates
DEMO_DIALOGUES = (
    ("zh-001-beneficiary-compliant", "A1001", "一组"),
    ("zh-003-beneficiary-no-check", "A1002", "一组"),
    ("zh-016-revisit-no-agent-id", "A2001", "二组"),
    ("zh-017-revisit-no-closing", "A2001", "二组"),
    ("zh-026-claim-delay-12378", "A1001", "一组"),
    ("zh-034-payment-failed-agent-abuse", "A2002", "二组"),
    ("zh-040-sales-sure-win", "A2002", "二组"),
    ("zh-045-query-long-hold", "A1002", "一组"),
)
BUSINESS = {  # corpus business types → the centre's words in reports
    "claims": "理赔咨询",
    "complaint": "投诉",
    "policy_service": "保单服务",
    "revisit": "新契约回访",
    "sales": "电话销售",
}
COLUMNS = [
    "file",
    "agent",
    "team",
    "direction",
    "business_type",
    "started_at",
    "external_id",
    "customer_phone",
    "agent_channel",
]


def corpus_root() -> Path:
    default = Path.home() / ".cache" / "qa-platform" / "zh_corpus"
    return Path(os.environ.get("QA_ZH_CORPUS_DIR") or default)


def built_dialogues(root: Path) -> dict[str, tuple[Path, dict]]:
    """Dialogue id → (its folder, reference.json) for every dialogue built under ``root``."""
    found: dict[str, tuple[Path, dict]] = {}
    for ref in sorted(root.glob("*/reference.json")):
        data = json.loads(ref.read_text(encoding="utf-8"))
        found[data["id"]] = (ref.parent, data)
    return found


def demo_ids() -> list[str]:
    return [d for d, _, _ in DEMO_DIALOGUES]


def write_manifest(out: Path, root: Path, start: datetime) -> int:
    built = built_dialogues(root)
    missing = [d for d in demo_ids() if d not in built]
    if missing:
        raise SystemExit(f"demo_manifest: not built yet under {root}: {', '.join(missing)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for n, (dialogue, agent, team) in enumerate(DEMO_DIALOGUES):
            folder, ref = built[dialogue]
            at = start + timedelta(days=n // 4, hours=(n % 4) * 2, minutes=7 * n)  # office hours
            writer.writerow(
                [
                    str(folder / ref["files"]["stereo_8k"]),
                    agent,
                    team,
                    ref["direction"],
                    BUSINESS.get(ref["business_type"], ref["business_type"]),
                    at.isoformat(timespec="minutes"),
                    f"ZH-DEMO-{n + 1:03d}",
                    f"139{n:04d}{5678 + n:04d}",
                    "0",
                ]
            )
    return len(DEMO_DIALOGUES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, nargs="?", help="the manifest to write")
    parser.add_argument("--corpus", type=Path, default=None, help="default: QA_ZH_CORPUS_DIR")
    parser.add_argument("--ids", action="store_true", help="print the demo's dialogue ids")
    args = parser.parse_args(argv)
    if args.ids:
        print(" ".join(demo_ids()))
        return 0
    if args.out is None:
        parser.error("the manifest path (out) is required unless --ids is given")
    # the calls of the last two days, from 09:00 in the centre's time zone
    zone = ZoneInfo(os.environ.get("QA_CENTRE_TIMEZONE") or "Asia/Shanghai")
    today = datetime.now(zone).replace(hour=9, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=2)
    n = write_manifest(args.out, args.corpus or corpus_root(), start)
    print(f"demo_manifest: {n} Mandarin calls → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
