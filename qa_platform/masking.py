"""Personal-data masking (个人信息脱敏) for transcripts, before anything is stored.

Masks ID card numbers (身份证号), mobile numbers (手机号), bank card numbers (银行卡号),
policy numbers (保单号), card security codes (安全码/CVV) and any other long digit string,
including digits spoken as Chinese numerals (一二三…, 幺, 两, 零/〇) mixed with Arabic digits,
spaces and commas, as ASR writes them ("幺三八，1234 五六七八").

Pure functions, no framework imports. :func:`mask_pii` works on text; :func:`mask_words` masks
word-level tokens consistently with it (a digit string often spans several ASR words).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa_platform.domain.transcript import Word

PLACEHOLDERS = {
    "id_card": "[身份证号]",
    "mobile": "[手机号]",
    "bank_card": "[银行卡号]",
    "policy": "[保单号]",
    "security_code": "[安全码]",
    "number": "[数字]",
}

MIN_MASKED_DIGITS = 6  # any digit string at least this long is personal-data suspect

_CHINESE_DIGITS = {
    "零": "0",
    "〇": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "两": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
DIGIT_CHARS = "0-9０-９" + "".join(_CHINESE_DIGITS)
SEPARATOR_CHARS = r"\s,，、\-－—"
_D = f"[{DIGIT_CHARS}]"
_S = f"[{SEPARATOR_CHARS}]"
_RUN = f"{_D}(?:{_S}*{_D})*"

_DIGIT_RUN = re.compile(f"{_RUN}(?P<x>{_S}*[Xx叉])?")
_SECURITY_CODE = re.compile(
    rf"(?:CVV2?|CVC2?|cvv2?|cvc2?|安全码|校验码|卡背面?(?:的)?后三位)[是为:：\s]*(?P<v>{_D}(?:{_S}*{_D}){{2,3}})"
)
_POLICY_CONTEXT = re.compile(
    rf"(?:保单号码?|保单编号|保险单号)[是为:：\s]*(?P<v>[A-Za-z]{{0,4}}-?{_RUN})"
)
_POLICY_CODE = re.compile(rf"(?<![A-Za-z])(?P<v>[A-Za-z]{{1,4}}-?{_D}(?:{_S}?{_D}){{5,}})")
_ID_CONTEXT = re.compile(r"身份证")
_BANK_CONTEXT = re.compile(r"卡号|银行卡|信用卡|借记卡")


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """A masked span of the original text: ``text[start:end]`` becomes ``placeholder``."""

    start: int
    end: int
    kind: str

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.kind]


@dataclass(frozen=True, slots=True)
class MaskResult:
    """Masked text and the kinds of personal data found (in order of appearance)."""

    text: str
    kinds: tuple[str, ...]
    spans: tuple[PiiSpan, ...] = ()


def to_ascii_digits(text: str) -> str:
    """The digits of ``text`` (Arabic, full-width or Chinese numerals) as ASCII, others dropped."""
    out = []
    for ch in text:
        if ch in _CHINESE_DIGITS:
            out.append(_CHINESE_DIGITS[ch])
        elif "０" <= ch <= "９":
            out.append(chr(ord(ch) - ord("０") + ord("0")))
        elif "0" <= ch <= "9":
            out.append(ch)
    return "".join(out)


def find_pii(text: str) -> list[PiiSpan]:
    """Non-overlapping spans of personal data in ``text``, sorted by position."""
    found: list[PiiSpan] = []
    for pattern, kind in (
        (_SECURITY_CODE, "security_code"),
        (_POLICY_CONTEXT, "policy"),
        (_POLICY_CODE, "policy"),
    ):
        found.extend(PiiSpan(m.start("v"), m.end("v"), kind) for m in pattern.finditer(text))
    for m in _DIGIT_RUN.finditer(text):
        span = _classify_run(text, m)
        if span is not None:
            found.append(span)
    return _merge_overlaps(found)


def _merge_overlaps(found: list[PiiSpan]) -> list[PiiSpan]:
    # ``found`` lists contextual matches first, and the earliest-listed match names the kind;
    # a generic digit run overlapping it widens the span so no digit escapes at its edges.
    ranked = sorted(enumerate(found), key=lambda item: (item[1].start, item[0]))
    merged: list[tuple[int, PiiSpan]] = []
    for rank, span in ranked:
        if merged and span.start < merged[-1][1].end:
            last_rank, last = merged[-1]
            kind = last.kind if last_rank <= rank else span.kind
            merged[-1] = (min(rank, last_rank), PiiSpan(last.start, max(last.end, span.end), kind))
        else:
            merged.append((rank, span))
    return [span for _, span in merged]


def _classify_run(text: str, m: re.Match[str]) -> PiiSpan | None:
    digits = to_ascii_digits(m.group(0))
    end = m.end()
    if m.group("x") and len(digits) == 17:
        return PiiSpan(m.start(), end, "id_card")
    if m.group("x"):
        end = m.start("x")
    if len(digits) < MIN_MASKED_DIGITS:
        return None
    before = text[max(0, m.start() - 12) : m.start()]
    return PiiSpan(m.start(), end, _number_kind(digits, before))


def _number_kind(digits: str, before: str) -> str:
    n = len(digits)
    if n == 11 and re.fullmatch(r"1[3-9]\d{9}", digits):
        return "mobile"
    if n == 18 and (_ID_CONTEXT.search(before) or _id_checksum_ok(digits)):
        return "id_card"
    if 16 <= n <= 19 or (n >= 12 and _BANK_CONTEXT.search(before)):
        return "bank_card"
    if n == 15 and _ID_CONTEXT.search(before):  # first-generation 15-digit ID card
        return "id_card"
    return "number"


def _id_checksum_ok(digits: str) -> bool:
    """ISO 7064 MOD 11-2 check digit of a resident ID number (身份证校验码)."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(digits[:17], weights, strict=True))
    return "10X98765432"[total % 11] == digits[17]


def mask_pii(text: str) -> MaskResult:
    """Replace personal data in ``text`` with placeholders such as ``[手机号]``."""
    spans = find_pii(text)
    return MaskResult(_apply(text, spans), tuple(s.kind for s in spans), tuple(spans))


def _apply(text: str, spans: Sequence[PiiSpan]) -> str:
    parts, pos = [], 0
    for span in spans:
        parts.append(text[pos : span.start])
        parts.append(span.placeholder)
        pos = span.end
    parts.append(text[pos:])
    return "".join(parts)


def mask_words(words: Sequence[Word]) -> list[Word]:
    """Mask word tokens so that their concatenation equals ``mask_pii`` of the joined text.

    Every word overlapping a masked span loses the masked characters; the first such word
    carries the placeholder and takes the time of the whole span, words left empty are dropped.
    """
    joined = "".join(w.text for w in words)
    spans = find_pii(joined)
    if not spans:
        return list(words)
    out: list[Word] = []
    pos = 0
    for word in words:
        start, end = pos, pos + len(word.text)
        pos = end
        text, span_end_time = _mask_piece(joined, start, end, spans, words, word)
        if text:
            out.append(Word(text, word.start, max(word.end, span_end_time), word.confidence))
    return out


def _mask_piece(
    joined: str, start: int, end: int, spans: Sequence[PiiSpan], words: Sequence[Word], word: Word
) -> tuple[str, float]:
    pieces: list[str] = []
    span_end_time = word.end
    i = start
    for span in spans:
        if span.end <= start or span.start >= end:
            continue
        pieces.append(joined[i : max(i, span.start)])
        if span.start >= start:  # the span begins in this word: it carries the placeholder
            pieces.append(span.placeholder)
            span_end_time = max(span_end_time, _time_at(words, span.end - 1))
        i = min(end, span.end)
    pieces.append(joined[i:end])
    return "".join(pieces), span_end_time


def _time_at(words: Sequence[Word], char_index: int) -> float:
    pos = 0
    for word in words:
        pos += len(word.text)
        if char_index < pos:
            return word.end
    return words[-1].end if words else 0.0
