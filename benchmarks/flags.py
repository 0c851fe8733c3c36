"""Flag evaluation throughput and the cost of `qa flags rerun`, against plain normalisation.

    .venv/bin/python benchmarks/flags.py [--calls 10000] [--seed 7] [--database URL ...]

1. In process: 10 000 synthetic-but-realistic call transcripts (14–40 turns, greeting, identity
   check, policy details, closing, fillers, 8 % abusive / complaining / misleading turns, word
   timings, silences). Times ``evaluate`` over all of them and, in the same run, the baseline
   of only normalising every segment's text (``normalise_with_map``), and prints calls/s and
   the ratio.
2. Stored: writes the same calls (call row, transcript, segments, features) into each
   ``--database`` (default: a temporary SQLite file) and times ``rerun`` over all of them
   (read, evaluate, replace flag rows, commit per batch), with the in-process figure as the
   baseline.
3. Precision and recall of the phrase rules on the labelled utterance sets.
"""

from __future__ import annotations

import argparse
import platform as host
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa_platform.domain.transcript import (
    AudioFeatures,
    Role,
    Segment,
    Span,
    Transcript,
    Word,
)
from qa_platform.flags import default_rule_set, evaluate
from qa_platform.flags.lexicon_quality import read_labelled, score
from qa_platform.text import normalise_with_map

AGENT_OPENINGS = [
    "您好，这里是安心保险服务专线，我是坐席小王，工号三八二一，请问有什么可以帮您",
    "您好，很高兴为您服务，我的工号是五零六七，请问有什么可以帮到您",
    "喂，您好，请问有什么可以帮您",  # no 工号
    "请稍等，我看一下系统",  # no greeting
]
CUSTOMER_ASKS = [
    "我想查一下我的保单现在是什么状态",
    "我上个月报的理赔到现在还没有到账，想问问进度",
    "我想改一下保单的缴费银行卡",
    "我想咨询一下退保能退多少钱",
    "我家里老人住院了，医疗险怎么报销",
    "你们的营业时间是几点到几点",
]
IDENTITY = [
    "好的，为了核实您的身份，请您提供身份证号后四位和预留手机号",
    "好的，请您提供一下保单号后六位和出生日期",
    "好的，请您提供身份证号后四位",  # one factor only
]
CUSTOMER_ANSWERS = [
    "身份证后四位是幺二三四，手机是一三九",
    "保单号后六位是＊＊＊＊，生日是三月五号",
    "好的，稍等我找一下",
]
DETAILS = [
    "感谢您的配合，您的保单目前有效，下次缴费日期是三月一日，保费是五千二百元",
    "查到了，您的理赔金额是一万二千元，已经在审核中，预计三个工作日内到账",
    "您的账户价值目前是三万五千元，退保金额以系统计算为准",
    "我们的营业时间是早上九点到晚上六点，周末也有人值班",
]
CUSTOMER_REACTIONS = [
    "好的，明白了，谢谢",
    "那我还需要准备什么材料吗",
    "嗯，好的，那我等着",
    "为什么这么慢，你们效率太低了",
]
AGENT_FOLLOW_UPS = [
    "需要您提供病历、发票和身份证复印件，可以通过我们的公众号上传",
    "嗯，这个我帮您记录一下，呃，后续会有专人联系您",
    "理解您着急的心情，我这边帮您加急处理，请您耐心等待",
    "这个问题我需要向相关部门确认，确认后二十四小时内给您回电",
]
RISKY_CUSTOMER = [
    "我要打12378投诉你们",
    "你们都是骗子",
    "再不处理我就找媒体曝光",
    "sb客服，听不懂人话吗",
    "我不投诉，就是问问",
]
RISKY_AGENT = [
    "这款产品保本保息，稳赚不赔",
    "你有病吧，跟你说了多少遍了",
    "这款产品不保本，投资有风险",
    "您说我们是骗子，我理解您的心情",
]
CLOSINGS = [
    "请问还有其他需要帮助的吗？感谢您的来电，祝您生活愉快，再见",
    "好的，感谢您的来电，再见",
    "好的，就这样",
]


def _segment(role: Role, start: float, text: str, rng: random.Random) -> Segment:
    cpm = rng.uniform(150, 260)  # characters per minute
    step = 60.0 / cpm
    words = [
        Word(ch, start + i * step, start + (i + 1) * step, rng.uniform(0.6, 1.0))
        for i, ch in enumerate(text)
    ]
    end = start + len(text) * step
    confidence = rng.choice([0.9] * 30 + [0.3])
    return Segment(
        "S0" if role == Role.AGENT else "S1",
        role,
        round(start, 3),
        round(end, 3),
        text,
        words,
        confidence,
    )


def synthetic_call(rng: random.Random) -> tuple[Transcript, AudioFeatures, str]:
    """One realistic call: opening, request, identity check, details, back-and-forth, closing."""
    script: list[tuple[Role, str]] = [
        (Role.AGENT, rng.choice(AGENT_OPENINGS)),
        (Role.CUSTOMER, rng.choice(CUSTOMER_ASKS)),
    ]
    script += [(Role.AGENT, rng.choice(IDENTITY)), (Role.CUSTOMER, rng.choice(CUSTOMER_ANSWERS))]
    script.append((Role.AGENT, rng.choice(DETAILS)))
    for _ in range(rng.randint(4, 17)):
        customer_text = (
            rng.choice(RISKY_CUSTOMER) if rng.random() < 0.08 else rng.choice(CUSTOMER_REACTIONS)
        )
        agent_text = (
            rng.choice(RISKY_AGENT) if rng.random() < 0.08 else rng.choice(AGENT_FOLLOW_UPS)
        )
        script += [(Role.CUSTOMER, customer_text), (Role.AGENT, agent_text)]
    script.append((Role.AGENT, rng.choice(CLOSINGS)))
    segments, silences, t = [], [], rng.uniform(0.3, 2.0)
    for role, text in script:
        gap = rng.choice([0.3] * 40 + [3.0, 11.0])
        if gap > 1:
            silences.append(Span(round(t, 3), round(t + gap, 3)))
        # now and then the agent cuts in before the customer has finished
        start = t + gap if not (role == Role.AGENT and rng.random() < 0.05) else max(0.0, t - 1.5)
        seg = _segment(role, start, text, rng)
        segments.append(seg)
        t = seg.end
    duration = t + rng.uniform(0.5, 2.0)
    silent = sum(s.duration for s in silences) + 0.3 * len(script)
    features = AudioFeatures(
        duration_s=round(duration, 3),
        silence_segments=silences,
        longest_silence_s=max((s.duration for s in silences), default=0.0),
        silence_ratio=round(min(1.0, silent / duration), 4),
    )
    return Transcript(segments, model="synthetic"), features, rng.choice(["in"] * 4 + ["out"])


def in_process(calls: list[tuple[Transcript, AudioFeatures, str]]) -> dict[str, float]:
    rules = default_rule_set()
    began = time.perf_counter()
    for transcript, _features, _direction in calls:
        for seg in transcript.segments:
            normalise_with_map(seg.text)
    baseline = time.perf_counter() - began
    began = time.perf_counter()
    flags = 0
    for transcript, features, direction in calls:
        flags += len(evaluate(transcript, features, rules, direction=direction))
    elapsed = time.perf_counter() - began
    return {"baseline_s": baseline, "evaluate_s": elapsed, "flags": flags}


def store_calls(url: str, home: Path, calls: list[tuple[Transcript, AudioFeatures, str]]):
    """Write the calls as the pipeline would leave them (status analysed) and return a Platform."""
    from sqlalchemy import insert

    from qa_platform.services.context import Platform
    from qa_platform.settings import Settings
    from storage.migrate import upgrade
    from storage.models import Call
    from storage.models_pipeline import CallFeatures, TranscriptSegment
    from storage.models_pipeline import Transcript as TranscriptRow

    settings = Settings(home=home, mode="test", database_url=url)
    settings.ensure_dirs()
    upgrade(settings.database)
    plat = Platform(settings)
    now = datetime.now(UTC)
    with plat.uow() as uow:
        s = uow.session
        for start in range(0, len(calls), 1000):
            chunk = list(enumerate(calls[start : start + 1000], start=start + 1))
            s.execute(
                insert(Call),
                [
                    {
                        "id": i,
                        "direction": d,
                        "business_type": "",
                        "started_at": now - timedelta(minutes=i),
                        "status": "analysed",
                        "duration_s": f.duration_s,
                        "channels": 2,
                        "sample_rate": 8000,
                        "audio_format": "wav",
                        "retain_until": now + timedelta(days=1095),
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i, (_t, f, d) in chunk
                ],
            )
            s.execute(
                insert(TranscriptRow),
                [
                    {
                        "id": i,
                        "call_id": i,
                        "model": "synthetic",
                        "model_version": "synthetic-1",
                        "pipeline_version": "1",
                        "language": "zh",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i, _c in chunk
                ],
            )
            s.execute(
                insert(TranscriptSegment),
                [
                    {
                        "transcript_id": i,
                        "call_id": i,
                        "idx": k,
                        "speaker": seg.speaker,
                        "role": str(seg.role),
                        "start": seg.start,
                        "end": seg.end,
                        "text": seg.text,
                        "words": [
                            {
                                "text": w.text,
                                "start": w.start,
                                "end": w.end,
                                "confidence": w.confidence,
                            }
                            for w in seg.words
                        ],
                        "confidence": seg.confidence,
                        "unreliable": seg.unreliable,
                    }
                    for i, (t, _f, _d) in chunk
                    for k, seg in enumerate(t.segments)
                ],
            )
            s.execute(
                insert(CallFeatures),
                [
                    {
                        "call_id": i,
                        "version": "1",
                        "features": f.to_dict(),
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i, (_t, f, _d) in chunk
                ],
            )
        uow.commit()
    return plat


def stored(url: str, calls: list[tuple[Transcript, AudioFeatures, str]]) -> dict[str, float]:
    from qa_platform.services.flags import rerun

    with tempfile.TemporaryDirectory() as tmp:
        plat = store_calls(url, Path(tmp), calls)
        first = rerun(plat)  # flags written the first time
        again = rerun(plat)  # the realistic case: replace existing flags
        return {
            "first_s": first.seconds,
            "rerun_s": again.seconds,
            "flags": again.flags,
            "calls": again.calls,
        }


def fresh_postgres(base: str) -> tuple[str, object]:
    """A throw-away database next to ``base`` (a URL of an existing database) and its dropper."""
    import secrets

    from sqlalchemy import create_engine, text

    name = f"qa_bench_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        from storage.db import make_engine

        make_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    url = base.rsplit("/", 1)[0] + f"/{name}"
    return url, drop


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--database",
        action="append",
        default=[],
        help="sqlite (temp file) or a PostgreSQL admin URL; repeatable",
    )
    args = ap.parse_args()
    rng = random.Random(args.seed)
    calls = [synthetic_call(rng) for _ in range(args.calls)]
    segments = sum(len(t.segments) for t, _f, _d in calls)
    chars = sum(len(s.text) for t, _f, _d in calls for s in t.segments)
    print(
        f"machine: {host.node()} {host.processor() or host.machine()}, python {host.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d}"
    )
    print(
        f"{args.calls} calls, {segments} segments ({segments / args.calls:.1f}/call), "
        f"{chars} characters ({chars / args.calls:.0f}/call)"
    )
    r = in_process(calls)
    n = args.calls
    print(f"normalise only (baseline): {r['baseline_s']:.2f} s = {n / r['baseline_s']:.0f} calls/s")
    print(
        f"evaluate (all 16 rules):   {r['evaluate_s']:.2f} s = {n / r['evaluate_s']:.0f} calls/s, "
        f"{r['flags']} flags; ratio to baseline {r['evaluate_s'] / r['baseline_s']:.2f}"
    )
    for target in args.database or ["sqlite"]:
        drop = None
        with tempfile.TemporaryDirectory() as tmp:
            if target == "sqlite":
                url = f"sqlite:///{tmp}/bench.sqlite3"
            else:
                url, drop = fresh_postgres(target)
            try:
                s = stored(url, calls)
            finally:
                if drop:
                    drop()  # type: ignore[operator]
        kind = "sqlite" if target == "sqlite" else "postgresql"
        print(
            f"qa flags rerun ({kind}): first {s['first_s']:.2f} s, again {s['rerun_s']:.2f} s = "
            f"{s['calls'] / s['rerun_s']:.0f} calls/s, {s['flags']} flags; "
            f"ratio to in-process evaluate {s['rerun_s'] / r['evaluate_s']:.2f}"
        )
    data = Path(__file__).resolve().parents[1] / "tests" / "data"
    for name in ("utterances_labelled.csv", "utterances_holdout.csv"):
        scores, _wrong = score(read_labelled(data / name))
        print(f"{name}:")
        for sc in scores.values():
            print(f"  {sc}")


if __name__ == "__main__":
    main()
