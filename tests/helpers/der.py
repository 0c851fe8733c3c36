"""Diarization error rate of our turns against the sample's reference RTTM (pyannote.metrics)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

from tests.helpers.audio import reference_turns
from workers.diarization import Turn

os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")


def der(turns: Sequence[Turn], collar: float) -> float:
    from pyannote.core import Annotation, Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    reference, hypothesis = Annotation(), Annotation()
    for i, (speaker, start, end) in enumerate(reference_turns()):
        reference[Segment(start, end), i] = speaker
    for i, t in enumerate(turns):
        hypothesis[Segment(t.start, t.end), i] = t.speaker
    uem = Timeline([Segment(0.0, 30.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(DiarizationErrorRate(collar=collar)(reference, hypothesis, uem=uem))
