"""The pipeline's masking stage: text and words of every segment, consistently."""

from __future__ import annotations

from qa_platform.domain.transcript import Role, Segment, Word
from workers.pipeline import mask_segments


def test_segment_text_and_words_are_both_masked() -> None:
    words = [
        Word("我的手机是", 0.0, 1.0),
        Word("幺三八", 1.0, 1.6),
        Word(" 1234", 1.6, 2.0),
        Word(" 5678", 2.0, 2.4),
    ]
    seg = Segment("customer", Role.CUSTOMER, 0.0, 2.4, "我的手机是幺三八 1234 5678", words)
    [masked] = mask_segments([seg])
    assert masked.text == "我的手机是[手机号]"
    assert [w.text for w in masked.words] == ["我的手机是", "[手机号]"]
    assert masked.words[1].end == 2.4
    assert seg.text.endswith("5678")  # the input is not modified in place


def test_segment_without_words_masks_its_text() -> None:
    seg = Segment("agent", Role.AGENT, 0.0, 1.0, "卡号6222021234567890123")
    assert mask_segments([seg])[0].text == "卡号[银行卡号]"
