"""The speech pipeline as one function: decode → features → ASR → diarization → roles → masking.

:func:`analyse_audio` is the engine the Celery stage tasks call piece by piece (each stage is a
public function here too). Personal data is masked in segment text AND words before the result
leaves this module. Per-stage wall time is recorded for the benchmark.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa_platform.domain.transcript import AudioFeatures, Role, Segment, Transcript, Word
from qa_platform.emotion import SegmentEmotion
from qa_platform.masking import mask_pii, mask_words
from qa_platform.settings import Settings
from workers.asr import WhisperTranscriber
from workers.asr_guards import SAMPLE_RATE, guard_segments, has_speech_energy, unreliable_reason
from workers.asr_types import AsrResult, AsrSegment
from workers.audio import DecodedAudio, decode
from workers.diarization import (
    Diarizer,
    Turn,
    assign_words_to_turns,
    make_mono_diarizer,
    stereo_turns,
)
from workers.emotion import customer_emotion
from workers.features import Activity, compute_features, voice_activity
from workers.roles import SpeakerRole, roles_from_channels, roles_from_cues


class Transcriber(Protocol):
    """What the pipeline needs of an ASR engine (:class:`WhisperTranscriber` in production)."""

    model_name: str
    model_version: str

    def transcribe(
        self, samples_16k_mono: np.ndarray, language: str | None = None, *, hotwords: bool = True
    ) -> AsrResult: ...


_TRANSCRIBERS: dict[tuple[Any, ...], WhisperTranscriber] = {}
_DIARIZERS: dict[str, Diarizer] = {}


@dataclass(slots=True)
class AnalysisResult:
    """Everything the pipeline learnt about one call (text already masked)."""

    transcript: Transcript
    features: AudioFeatures
    speakers: list[dict[str, Any]]
    model: str
    model_version: str
    timings: dict[str, float] = field(default_factory=dict)  # stage → seconds
    diarizer: str = ""
    asr_notes: list[str] = field(default_factory=list)
    emotion: list[SegmentEmotion] = field(default_factory=list)  # customer segments (客户情绪)


def get_transcriber(settings: Settings) -> WhisperTranscriber:
    """One transcriber per process and model configuration (models load once)."""
    key = (
        settings.asr_model,
        str(settings.model_cache),
        settings.asr_device,
        settings.asr_compute_type,
        settings.asr_cpu_threads,
        settings.asr_batch_size,
        settings.asr_beam_size,
        settings.asr_hotwords,
    )
    if key not in _TRANSCRIBERS:
        _TRANSCRIBERS[key] = WhisperTranscriber(settings)
    return _TRANSCRIBERS[key]


def get_mono_diarizer(settings: Settings) -> Diarizer:
    """One mono diarizer per process and pyannote directory (the pipeline loads once)."""
    if settings.pyannote_dir not in _DIARIZERS:
        _DIARIZERS[settings.pyannote_dir] = make_mono_diarizer(settings.pyannote_dir)
    return _DIARIZERS[settings.pyannote_dir]


class _Stopwatch:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(
                self.timings.get(name, 0.0) + time.perf_counter() - started, 4
            )


def analyse_audio(
    path: str | Path,
    *,
    settings: Settings,
    agent_channel: int | None = None,
    language: str | None = None,
    transcriber: Transcriber | None = None,
    diarizer: Diarizer | None = None,
) -> AnalysisResult:
    """Analyse one recording end to end; raises ``BadAudio`` for undecodable input.

    ``agent_channel`` (stereo) defaults to ``settings.agent_channel``; ``language`` to
    ``settings.asr_language`` (``"auto"`` detects).
    """
    clock = _Stopwatch()
    agent_channel = settings.agent_channel if agent_channel is None else agent_channel
    language = language or settings.asr_language
    with clock.stage("decode"):
        audio = decode(path, max_duration_s=settings.max_duration_s)
    with clock.stage("features"):
        activities = [voice_activity(ch) for ch in audio.samples]
    transcriber = transcriber or get_transcriber(settings)
    with clock.stage("asr"):
        asr = [
            transcribe_channel(transcriber, ch, language, activity=act)
            for ch, act in zip(audio.samples, activities, strict=True)
        ]
    if audio.channels > 1:
        segments, turns, roles, diarizer_name = _stereo_layout(
            audio, asr, activities, agent_channel, clock
        )
    else:
        diarizer = diarizer or get_mono_diarizer(settings)
        segments, turns, roles, diarizer_name = _mono_layout(audio, asr[0], diarizer, clock)
    with clock.stage("features"):
        speaker_roles = {r.speaker: str(r.role) for r in roles}
        features = compute_features(
            audio,
            agent_channel=agent_channel,
            turns=[(t.speaker, t.start, t.end) for t in turns],
            speaker_roles=speaker_roles,
            activities=activities,
        )
    with clock.stage("masking"):
        segments = mask_segments(segments)
    with clock.stage("emotion"):
        emotion = customer_emotion(audio.samples, segments, 1 - agent_channel)
    detected = next((r.language for r in asr if r.language), language)
    transcript = Transcript(segments, language=detected, model=transcriber.model_name)
    return AnalysisResult(
        transcript=transcript,
        features=features,
        speakers=_speaker_records(roles, turns),
        model=transcriber.model_name,
        model_version=transcriber.model_version,
        timings=clock.timings,
        diarizer=diarizer_name,
        asr_notes=[n for r in asr for n in r.notes],
        emotion=emotion,
    )


def transcribe_channel(
    transcriber: Transcriber,
    samples: np.ndarray,
    language: str,
    *,
    activity: Activity | None = None,
) -> AsrResult:
    """ASR of one whole channel with the guards: silence/music → no text; words where the
    channel's ``activity`` says nobody speaks → dropped; suspect spans marked, loops cut."""
    if not has_speech_energy(samples):
        return AsrResult(
            (),
            language if language != "auto" else "",
            duration_s=samples.size / 16000,
            model=transcriber.model_name,
            model_version=transcriber.model_version,
            notes=("no speech energy: ASR skipped",),
        )
    result = transcriber.transcribe(samples, language)
    segments = result.segments
    prompts = getattr(transcriber, "prompts_hotwords", None)
    if callable(prompts) and prompts(None if language == "auto" else language):
        segments = redecode_suspects(transcriber, samples, language, segments)
    voiced = None if activity is None else [(s.start, s.end) for s in activity.spans()]
    if voiced:
        segments = recover_lost_speech(transcriber, samples, language, segments, voiced)
    return replace(result, segments=tuple(guard_segments(segments, voiced)))


LOST_SPEECH_MIN_S = 1.0  # voiced time without any text that is decoded again
LOST_SPEECH_JOIN_S = 0.8  # voiced spans closer than this are one utterance


def lost_speech_spans(
    voiced: Sequence[tuple[float, float]], segments: Sequence[AsrSegment]
) -> list[tuple[float, float]]:
    """Stretches where the channel's own voice activity says someone speaks for at least
    ``LOST_SPEECH_MIN_S`` and no segment of the first reading lies: speech the model dropped."""
    joined: list[list[float]] = []
    for start, end in sorted(voiced):
        if joined and start - joined[-1][1] <= LOST_SPEECH_JOIN_S:
            joined[-1][1] = max(joined[-1][1], end)
        else:
            joined.append([start, end])
    return [
        (a, b)
        for a, b in joined
        if b - a >= LOST_SPEECH_MIN_S and not any(s.start < b and s.end > a for s in segments)
    ]


def recover_lost_speech(
    transcriber: Transcriber,
    samples: np.ndarray,
    language: str,
    segments: Sequence[AsrSegment],
    voiced: Sequence[tuple[float, float]],
) -> tuple[AsrSegment, ...]:
    """Decode again, on its own and without the hot-word prompt, every voiced stretch the first
    reading left without text. On the Mandarin corpus Whisper base stopped after a customer's
    first utterances (zh-036: everything after 35 s of the customer channel, insult included,
    was missing; plain Whisper over the same channel had it). The guards then treat the
    recovered segments like any other."""
    recovered: list[AsrSegment] = []
    for a, b in lost_speech_spans(voiced, segments):
        start = max(0.0, a - REDECODE_PAD_S)
        clip = samples[int(start * SAMPLE_RATE) : int((b + REDECODE_PAD_S) * SAMPLE_RATE)]
        again = transcriber.transcribe(clip, language, hotwords=False).segments
        recovered.extend(s.shifted(start) for s in again if s.text.strip())
    if not recovered:
        return tuple(segments)
    return tuple(sorted([*segments, *recovered], key=lambda s: s.start))


REDECODE_PAD_S = 0.3


def redecode_suspects(
    transcriber: Transcriber,
    samples: np.ndarray,
    language: str,
    segments: Sequence[AsrSegment],
) -> tuple[AsrSegment, ...]:
    """Decode again, without the hot-word prompt, the span of every segment a guard suspects
    (repetition loop, hallucination, low confidence), and keep the second reading where it is
    sounder. On the Mandarin corpus the prompt sent the base model into loops
    ("受益人 受益人 …") that swallowed whole utterances of the customer; the same audio without
    the prompt decodes cleanly. Segments no guard suspects keep the first (prompted) reading."""
    out: list[AsrSegment] = []
    for seg in segments:
        if unreliable_reason(seg) is None:
            out.append(seg)
            continue
        start = max(0.0, seg.start - REDECODE_PAD_S)
        clip = samples[int(start * SAMPLE_RATE) : int((seg.end + REDECODE_PAD_S) * SAMPLE_RATE)]
        again = transcriber.transcribe(clip, language, hotwords=False).segments
        retry = [s.shifted(start) for s in again]
        out.extend(retry if _sounder(retry, seg) else [seg])
    return tuple(out)


def _sounder(retry: Sequence[AsrSegment], first: AsrSegment) -> bool:
    """The retry is kept when no guard suspects any of its segments, or when it is suspected
    less often per character than the first reading."""
    if not retry:
        return False
    suspects = sum(1 for s in retry if unreliable_reason(s) is not None)
    if suspects == 0:
        return True
    return min(s.avg_logprob for s in retry) > first.avg_logprob and suspects < len(retry)


def _words_of(segments: Sequence[AsrSegment]) -> list[Word]:
    """The words of all segments; a segment Whisper gave no word timings (it happens to the
    last one of a call) becomes one word spanning the segment, so its text is not lost."""
    words: list[Word] = []
    for s in segments:
        if s.words:
            words.extend(Word(w.text, w.start, w.end, round(w.probability, 4)) for w in s.words)
        elif s.text.strip():
            confidence = round(float(np.exp(min(0.0, s.avg_logprob))), 4)
            words.append(Word(s.text, s.start, s.end, confidence))
    return words


def _stereo_layout(
    audio: DecodedAudio,
    asr: Sequence[AsrResult],
    activities: Sequence[Activity],
    agent_channel: int,
    clock: _Stopwatch,
) -> tuple[list[Segment], list[Turn], list[SpeakerRole], str]:
    with clock.stage("diarization"):
        turns = stereo_turns(audio.samples, agent_channel=agent_channel, activities=activities)
        roles = roles_from_channels(audio.channels, agent_channel)
        segments: list[Segment] = []
        for channel, result in enumerate(asr):
            role = Role.AGENT if channel == agent_channel else Role.CUSTOMER
            whole = [Turn(str(role), 0.0, audio.duration_s)]
            words = _words_of(result.segments)
            grouped = assign_words_to_turns(words, whole, roles={str(role): role})
            segments.extend(_carry_unreliable(grouped, result.segments))
        segments.sort(key=lambda s: (s.start, s.speaker))
    return segments, turns, roles, "channel"


def _mono_layout(
    audio: DecodedAudio, asr: AsrResult, diarizer: Diarizer, clock: _Stopwatch
) -> tuple[list[Segment], list[Turn], list[SpeakerRole], str]:
    with clock.stage("diarization"):
        turns = diarizer.diarize(audio.samples[0])
        segments = assign_words_to_turns(_words_of(asr.segments), turns)
        segments = _carry_unreliable(segments, asr.segments)
    with clock.stage("roles"):
        roles = roles_from_cues([(s.speaker, s.start, s.text) for s in segments])
        by_speaker = {r.speaker: r.role for r in roles}
        for seg in segments:
            seg.role = by_speaker.get(seg.speaker, Role.UNKNOWN)
        known = set(by_speaker)
        roles += [
            SpeakerRole(t.speaker, Role.UNKNOWN, 0.0) for t in turns if t.speaker not in known
        ]
        roles = list({r.speaker: r for r in roles}.values())
    return segments, turns, roles, diarizer.name


def _carry_unreliable(segments: list[Segment], asr_segments: Sequence[AsrSegment]) -> list[Segment]:
    """A transcript segment overlapping a suspect ASR span inherits its reason."""
    suspects = [s for s in asr_segments if s.unreliable]
    for seg in segments:
        for s in suspects:
            if min(seg.end, s.end) - max(seg.start, s.start) > 0:
                seg.unreliable = s.unreliable
                break
    return segments


def mask_segments(segments: Sequence[Segment]) -> list[Segment]:
    """Personal data masked in every segment's words and text (text rebuilt from the words)."""
    out = []
    for seg in segments:
        words = mask_words(seg.words)
        text = "".join(w.text for w in words).strip() if words else mask_pii(seg.text).text
        out.append(replace(seg, words=words, text=text))
    return out


def _speaker_records(roles: Sequence[SpeakerRole], turns: Sequence[Turn]) -> list[dict[str, Any]]:
    talk: dict[str, float] = {}
    for t in turns:
        talk[t.speaker] = talk.get(t.speaker, 0.0) + t.duration
    records = []
    for r in roles:
        record = r.to_dict()
        record["talk_time_s"] = round(talk.get(r.speaker, 0.0), 3)
        records.append(record)
    return records
