"""Personal-data masking: each kind, spoken Chinese numerals, word tokens, and a property."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_platform.domain.transcript import Word
from qa_platform.masking import DIGIT_CHARS, SEPARATOR_CHARS, mask_pii, mask_words


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        ("我的手机号是13812345678", "我的手机号是[手机号]", "mobile"),
        ("幺三八，一二三四 五六七八", "[手机号]", "mobile"),
        ("号码 1 3 9 零零零 1 2 3 4 5 好的", "号码 [手机号] 好的", "mobile"),
        ("身份证号11010519491231002X", "身份证号[身份证号]", "id_card"),
        ("身份证是 一一零一零五一九四九一二三一零零二叉", "身份证是 [身份证号]", "id_card"),
        ("440301199001011234", "[身份证号]", "id_card"),  # valid check digit, no context
        ("卡号是6222 0212 3456 7890 123", "卡号是[银行卡号]", "bank_card"),
        ("6222021234567890", "[银行卡号]", "bank_card"),
        ("保单号是P2023000123456，谢谢", "保单号是[保单号]，谢谢", "policy"),
        ("保单号 一二三四五", "保单号 [保单号]", "policy"),
        ("您的保单 PA-20230001234 已生效", "您的保单 [保单号] 已生效", "policy"),
        ("CVV是123", "CVV是[安全码]", "security_code"),
        ("卡背面的后三位是七八九", "卡背面的后三位是[安全码]", "security_code"),
        ("安全码 3 4 5", "安全码 [安全码]", "security_code"),
        ("编号123456789", "编号[数字]", "number"),
        ("验证码是八八六六九九", "验证码是[数字]", "number"),
    ],
)
def test_masks_each_kind(text: str, expected: str, kind: str) -> None:
    result = mask_pii(text)
    assert result.text == expected
    assert result.kinds == (kind,)


@pytest.mark.parametrize(
    "text",
    [
        "我买了两份保险，一共三万块",
        "第一次投保是二零二三年",
        "保费每年 3000 元",
        "请问还有什么可以帮您",
        "一二三四五",  # five digits: not personal data by itself
    ],
)
def test_leaves_ordinary_text_alone(text: str) -> None:
    assert mask_pii(text).text == text
    assert mask_pii(text).kinds == ()


def test_masks_several_items_in_one_text() -> None:
    result = mask_pii("电话13812345678，卡号6222021234567890123")
    assert result.text == "电话[手机号]，卡号[银行卡号]"
    assert result.kinds == ("mobile", "bank_card")


def test_17_digits_with_x_is_id_but_x_after_short_run_stays() -> None:
    assert mask_pii("11010519491231002x").text == "[身份证号]"
    assert mask_pii("123456 X").text == "[数字] X"


def test_mask_words_masks_every_word_overlapping_a_span() -> None:
    words = [
        Word("我的", 0.0, 0.5),
        Word("号码是1", 0.5, 1.0),
        Word("38", 1.0, 1.5),
        Word(" 1234", 1.5, 2.0),
        Word(" 5678", 2.0, 2.5),
        Word("谢谢", 2.5, 3.0),
    ]
    masked = mask_words(words)
    assert [w.text for w in masked] == ["我的", "号码是[手机号]", "谢谢"]
    assert masked[1].start == 0.5 and masked[1].end == 2.5  # the whole span's time
    assert "".join(w.text for w in masked) == mask_pii("".join(w.text for w in words)).text


def test_mask_words_without_pii_returns_the_words_unchanged() -> None:
    words = [Word("您好", 0.0, 0.4, 0.9), Word("请讲", 0.4, 0.8, 0.8)]
    assert mask_words(words) == words


_ALL_DIGITS = re.compile(f"[{DIGIT_CHARS}]")
_SEPARATORS = re.compile(f"[{SEPARATOR_CHARS}]")
_LONG_RUN = re.compile(f"[{DIGIT_CHARS}]{{6,}}")

_alphabet = st.sampled_from(
    list("0123456789０９一二三四五六七八九零〇幺两")
    + list(" ,，、-")
    + list("是号卡Xx叉PA保单安全码CVV好的")
)


def _surviving_runs(text: str) -> list[str]:
    return _LONG_RUN.findall(_SEPARATORS.sub("", text))


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=_alphabet, max_size=60))
def test_no_run_of_six_digits_survives(text: str) -> None:
    assert _surviving_runs(mask_pii(text).text) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=_alphabet, min_size=1, max_size=6), max_size=12))
def test_masked_words_join_to_masked_text(pieces: list[str]) -> None:
    words = [Word(p, float(i), float(i + 1)) for i, p in enumerate(pieces)]
    joined = "".join(w.text for w in mask_words(words))
    assert joined == mask_pii("".join(pieces)).text
    assert _surviving_runs(joined) == []
