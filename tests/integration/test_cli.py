"""The `qa` console script as a user runs it: JSON contracts and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from qa_platform.cli import main
from qa_platform.settings import Settings
from tests.helpers.files import make_audio


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_init_ingest_list_show(settings: Settings, tmp_path: Path) -> None:
    assert run("init", "--json")[0] == 0
    good = make_audio(tmp_path / "good.wav", seconds=2.0, channels=2)
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    code, out, _ = run(
        "ingest",
        str(good),
        str(bad),
        "--agent",
        "A7",
        "--team",
        "三组",
        "--direction",
        "out",
        "--customer-phone",
        "139-1234-5678",
        "--json",
    )
    assert code == 1  # one rejected
    rows = json.loads(out)
    assert [r["status"] for r in rows] == ["created", "rejected"]
    assert set(rows[0]) == {"file", "call_id", "status", "error"}
    assert "bad.wav" in rows[1]["error"]
    code, out, _ = run("calls", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and [c["id"] for c in listed] == [rows[0]["call_id"]]
    code, out, _ = run("call", "show", str(rows[0]["call_id"]), "--json")
    shown = json.loads(out)
    assert {"id", "status", "duration_s", "channels", "sample_rate", "flags"} <= set(shown)
    assert (shown["channels"], shown["team"], shown["direction"]) == (2, "三组", "out")
    assert shown["customer_phone"] == "139****5678"


def test_unknown_call_exits_2_with_message(settings: Settings) -> None:
    run("init")
    code, _, err = run("call", "show", "404", "--json")
    assert code == 2 and "no call 404" in err


def test_audio_export_and_audit_verify(settings: Settings, tmp_path: Path) -> None:
    run("init")
    src = make_audio(tmp_path / "a.wav")
    cid = json.loads(run("ingest", str(src), "--json")[1])[0]["call_id"]
    out = tmp_path / "back.wav"
    assert run("call", "audio", str(cid), "--out", str(out))[0] == 0
    assert out.read_bytes() == src.read_bytes()
    code, text, _ = run("audit", "verify", "--json")
    report = json.loads(text)
    assert code == 0 and report["ok"] and report["checked"] == 2  # ingest + export


def test_keys_rotate_then_every_recording_decrypts(settings: Settings, tmp_path: Path) -> None:
    run("init")
    srcs = [make_audio(tmp_path / f"{i}.wav", seed=i) for i in range(3)]
    run("ingest", *map(str, srcs))
    code, out, _ = run("keys", "rotate", "--json")
    assert code == 0 and json.loads(out)["rewrapped"] == 3
    for i, src in enumerate(srcs, start=1):
        back = tmp_path / f"back{i}.wav"
        assert run("call", "audio", str(i), "--out", str(back))[0] == 0
        assert back.read_bytes() == src.read_bytes()


def test_users_add_generates_password_once(settings: Settings) -> None:
    run("init")
    code, out, _ = run(
        "users", "add", "wang", "--role", "agent", "--agent-code", "A9", "--team", "一组", "--json"
    )
    user = json.loads(out)
    assert code == 0 and len(user["password"]) >= 12
    code, _, err = run("users", "add", "wang", "--role", "agent", "--agent-code", "A10")
    assert code == 2 and "already exists" in err
    code, _, err = run("users", "add", "li", "--role", "agent")
    assert code == 2 and "agent code" in err


def test_ingest_without_input_is_a_usage_error(settings: Settings) -> None:
    code, _, err = run("ingest")
    assert code == 2 and "--manifest" in err
