"""Lexicons: file format, normalised Aho-Corasick matching, negation, quotation, exceptions."""

from __future__ import annotations

import os
from pathlib import Path

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_platform.domain.transcript import Severity
from qa_platform.flags.lexicon_quality import read_labelled, score
from qa_platform.lexicon import LexiconError, load_lexicon, parse_lexicon

DATA = Path(__file__).parent.parent / "data"
LABELLED = read_labelled(DATA / "utterances_labelled.csv")
PHRASE_LEXICONS = ("abuse", "complaint_risk", "misleading_promise")
ALL_LEXICONS = (
    *PHRASE_LEXICONS,
    "filler_words",
    "greeting",
    "closing",
    "identity_check",
    "policy_detail",
    "agent_id",
    "identity_request",
    "identity_action",
)


def keys(lexicon_name: str, text: str) -> list[str]:
    return [m.term.key for m in load_lexicon(lexicon_name).find(text)]


@pytest.mark.parametrize("name", ALL_LEXICONS)
def test_every_shipped_lexicon_loads(name: str) -> None:
    lexicon = load_lexicon(name)
    assert lexicon.terms and lexicon.version


def test_match_reports_original_positions_and_words() -> None:
    text = "喂？你們這群「騙 子」"
    [match] = load_lexicon("abuse").find(text.replace("「", "").replace("」", ""))
    assert match.quote == "騙 子"
    assert match.term.key == "骗子"
    assert match.term.severity == Severity.WARNING


def test_longest_match_wins_over_its_parts() -> None:
    assert keys("misleading_promise", "稳赚不赔") == ["稳赚不赔"]


@pytest.mark.parametrize(
    ("lexicon", "text", "expected"),
    [
        ("misleading_promise", "这款产品不保本", []),  # single-character negator touching the term
        ("misleading_promise", "我们不能保证收益", []),  # multi-character negator
        ("misleading_promise", "不光保本，还有高收益", ["保本", "高收益"]),  # 不光 is not negation
        ("misleading_promise", "没有问题，这个产品保本", ["保本"]),  # negation stops at the clause
        ("misleading_promise", "保本是不可能的", []),  # post-negator
        ("complaint_risk", "我不会去监管那边投诉的", []),  # negation carries through the clause
        ("abuse", "你是不是智障", ["智障"]),  # 是不是 is a question, not a negation
        ("abuse", "我们不是骗子", []),
        ("abuse", "你不是人", ["不是人"]),  # negatable=no
    ],
)
def test_negation(lexicon: str, text: str, expected: list[str]) -> None:
    assert keys(lexicon, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("您说我们是骗子，我理解您的心情", []),
        ("客户说“你们都是骗子”", []),
        ("您说「你们这帮垃圾」", []),
        ('他说"傻逼"', []),  # ASCII quotes
        ("您说我们是骗子？你才是骗子", ["骗子"]),  # a cue covers only up to the next match
        ("跟你说不清楚，笨死了", ["笨死了"]),  # 跟你说 addresses the listener, not a quote
        ("您说什么。神经病", ["神经病"]),  # a cue does not cross a sentence
    ],
)
def test_quotation(text: str, expected: list[str]) -> None:
    assert keys("abuse", text) == expected


@pytest.mark.parametrize(
    ("lexicon", "text", "expected"),
    [
        ("abuse", "USB接口坏了", []),
        ("abuse", "sb", ["sb"]),
        ("abuse", "你sb吧", ["sb"]),
        ("complaint_risk", "我的电话是13912345678", []),  # 12345 inside a longer number
        ("complaint_risk", "我打12345", ["12345"]),
    ],
)
def test_latin_and_digit_terms_need_word_boundaries(
    lexicon: str, text: str, expected: list[str]
) -> None:
    assert keys(lexicon, text) == expected


def test_exception_phrase_suppresses_the_term_inside_it() -> None:
    assert keys("abuse", "这是傻瓜式操作") == []
    assert keys("abuse", "你是傻瓜") == ["傻瓜"]


def test_standalone_terms_only_count_as_their_own_clause() -> None:
    assert keys("filler_words", "好啊，没问题") == []
    assert keys("filler_words", "啊，好的，嗯，呃") == ["啊", "嗯", "呃"]
    assert keys("filler_words", "金额是三百元") == []


def test_bad_field_names_the_file_and_line() -> None:
    with pytest.raises(LexiconError, match=r"x\.txt:3: bad field 'colour=red'"):
        parse_lexicon("x", "# c\n\n骗子\tcolour=red\n", source="x.txt")


def test_bad_severity_is_rejected() -> None:
    with pytest.raises(LexiconError, match="severity 'fatal' is not one of"):
        parse_lexicon("x", "骗子\tseverity=fatal\n", source="x.txt")


def test_duplicate_after_normalisation_is_rejected() -> None:
    with pytest.raises(LexiconError, match=r"x\.txt:2: duplicate term '騙子'"):
        parse_lexicon("x", "骗子\n騙子\n", source="x.txt")


def test_unknown_directive_and_empty_entry_are_rejected() -> None:
    with pytest.raises(LexiconError, match="unknown directive @colour"):
        parse_lexicon("x", "@colour\tred\n", source="x.txt")
    with pytest.raises(LexiconError, match="empty after normalisation"):
        parse_lexicon("x", "！！\n", source="x.txt")


def test_missing_lexicon_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="lexicon 'nope' not found"):
        load_lexicon("nope", tmp_path)


def test_edited_file_is_reloaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "qa_platform.lexicon.files._RECHECK_S", 0.0
    )  # default: re-check once a second
    path = tmp_path / "mine.txt"
    path.write_text("骗子\n", encoding="utf-8")
    assert [t.key for t in load_lexicon("mine", tmp_path).terms] == ["骗子"]
    path.write_text("骗子\n流氓\n", encoding="utf-8")
    os.utime(path, ns=(1, 2_000_000_000_000_000_000))
    assert [t.key for t in load_lexicon("mine", tmp_path).terms] == ["骗子", "流氓"]


# ----------------------------------------------------------------------------- labelled set


def test_labelled_set_is_big_and_balanced_enough() -> None:
    assert len(LABELLED) >= 150
    for name in PHRASE_LEXICONS:
        rows = [u for u in LABELLED if u.lexicon == name]
        assert sum(u.label for u in rows) >= 20 and sum(not u.label for u in rows) >= 15


def test_precision_and_recall_per_lexicon_on_the_labelled_set() -> None:
    scores, wrong = score(LABELLED)
    report = "\n".join(str(s) for s in scores.values())
    report += "".join(f"\n  wrong: [{u.lexicon}/{u.role}/{int(u.label)}] {u.text}" for u in wrong)
    print("\nlabelled utterances (tests/data/utterances_labelled.csv)\n" + report)
    for s in scores.values():
        assert s.precision >= 0.95 and s.recall >= 0.9, report


# ----------------------------------------------------------------------------- properties

_SEPARATORS = st.sampled_from([" ", "\u3000", "·", "-", "_", "*", "~", "/", "\t"])
_to_traditional = opencc.OpenCC("s2t").convert


def _matches(text: str) -> dict[str, list[str]]:
    return {name: keys(name, text) for name in PHRASE_LEXICONS}


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(LABELLED), st.lists(st.tuples(st.integers(0, 60), _SEPARATORS), max_size=6))
def test_inserted_spaces_and_symbols_do_not_change_matches(u, insertions) -> None:
    chars = list(u.text)
    for position, sep in insertions:
        chars.insert(min(position, len(chars)), sep)
    assert _matches("".join(chars)) == _matches(u.text)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(LABELLED))
def test_full_width_and_traditional_spellings_match_the_same(u) -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in u.text)
    assert _matches(full_width) == _matches(u.text)
    assert _matches(_to_traditional(u.text)) == _matches(u.text)


def test_abuse_words_match_by_homophone_at_most() -> None:
    abuse = load_lexicon("abuse")
    assert abuse.fuzzy == "homophone"
    assert all(abuse.fuzzy_level(t) in ("none", "homophone") for t in abuse.terms)
    assert [m.via for m in abuse.find("你是神经并")] == ["homophone"]
    assert abuse.find("请把验证码的后四位告诉我") == []  # 码的 sounds like 妈的, which opts out


def test_fuzzy_and_number_after_fields_are_parsed() -> None:
    lexicon = parse_lexicon("t", "@fuzzy\tnear\n编号\tnumber_after=yes\tfuzzy=homophone\n工号\n")
    numbered, plain = lexicon.terms
    assert numbered.number_after and lexicon.fuzzy_level(numbered) == "homophone"
    assert not plain.number_after and lexicon.fuzzy_level(plain) == "near"
    with pytest.raises(LexiconError, match="number_after='maybe' is not yes/no"):
        parse_lexicon("t", "编号\tnumber_after=maybe\n", source="t.txt")
