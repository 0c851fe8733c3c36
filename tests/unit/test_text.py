"""Text normalisation: Traditional→Simplified, full-width→half-width, case, spaces, punctuation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa_platform.text import normalise, normalise_with_map

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
FULL_WIDTH = st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E)
PUNCT = st.sampled_from(list("，。！？、；：“”‘’「」『』（）《》…—·　 \t\n"))
REALISTIC = st.text(st.one_of(CJK, ASCII, FULL_WIDTH, PUNCT), max_size=60)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("您說我們是騙子", "您说我们是骗子"),  # Traditional → Simplified
        ("ＳＢ　ＴＭＤ", "sbtmd"),  # full-width letters and ideographic space
        ("１２３７８", "12378"),  # full-width digits
        ("我要 投 诉！", "我要投诉"),  # spaces and Chinese punctuation
        ("“保本”,(保息)...", "保本保息"),  # quotes and ASCII punctuation
        ("NMSL", "nmsl"),  # Latin lower-cased
        ("一目瞭然", "一目了然"),  # phrase-level conversion
        ("", ""),
    ],
)
def test_normalise_examples(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_normalise_rejects_non_text() -> None:
    with pytest.raises(TypeError, match="expects str, got bytes"):
        normalise(b"abc")  # type: ignore[arg-type]


def test_map_points_back_to_original_characters() -> None:
    n = normalise_with_map("您說：「騙子」！")
    assert n.text == "您说骗子"
    start = n.text.index("骗子")
    assert n.original_span(start, start + 2) == (4, 6)
    assert n.quote(start, start + 2) == "騙子"


def test_map_span_outside_text_is_an_error() -> None:
    with pytest.raises(ValueError, match="outside normalised text"):
        normalise_with_map("骗子").original_span(1, 5)


def test_a_chain_of_traditional_variants_ends_at_one_simplified_form() -> None:
    # OpenCC's t2s reads 薴 as 苧 and 苧 as 苎: matching needs the end of the chain
    assert normalise("薴") == normalise("苧") == normalise("苎") == "苎"
    assert normalise_with_map("薴麻").text == "苎麻"


@given(REALISTIC)
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


@given(REALISTIC)
def test_map_variant_gives_the_same_text(text: str) -> None:
    n = normalise_with_map(text)
    assert n.text == normalise(text)
    assert len(n.source_index) == len(n.text)
    assert list(n.source_index) == sorted(n.source_index)


@given(REALISTIC)
def test_full_width_spelling_normalises_the_same(text: str) -> None:
    full = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    assert normalise(full) == normalise(text)


def test_numbers_spoken_digit_by_digit_match_their_arabic_form() -> None:
    assert normalise("我就打幺二三七八") == normalise("我就打12378") == "我就打12378"
    assert normalise("打一二三七八找监管") == "打12378找监管"
    assert normalise("一下一份两个") == "一下一份两个"  # words with numerals stay words
    mapped = normalise_with_map("打一二三七八。")
    assert mapped.text == "打12378" and mapped.quote(1, 6) == "一二三七八"
