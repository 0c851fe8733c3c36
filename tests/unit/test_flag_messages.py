"""Flag names and evidence messages: a Chinese and an English text for every key."""

from __future__ import annotations

import string

import pytest

from qa_platform.domain.errors import Invalid
from qa_platform.flags import FLAG_TYPES
from qa_platform.flags.messages import MessageError, catalogue, flag_name, render
from qa_platform.lexicon import LexiconError, parse_lexicon
from web.i18n import catalog
from workers.roles import RoleCuesError


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_flag_has_a_chinese_and_an_english_name() -> None:
    for flag in FLAG_TYPES:
        assert flag_name(flag, "zh") != flag and flag_name(flag, "en") != flag


def test_the_web_shows_the_same_flag_names() -> None:
    for flag in FLAG_TYPES:
        assert catalog("zh")[f"flag.{flag}"] == flag_name(flag, "zh")
        assert catalog("en")[f"flag.{flag}"] == flag_name(flag, "en")


@pytest.mark.parametrize("key", sorted(catalogue()["evidence"]))
def test_both_languages_of_a_message_take_the_same_parameters(key: str) -> None:
    entry = catalogue()["evidence"][key]
    assert set(entry) == {"zh", "en"}
    assert fields(entry["zh"]) == fields(entry["en"])
    assert any("\u4e00" <= ch <= "\u9fff" for ch in entry["zh"].replace("字/分钟", ""))


def test_rendering_translates_codes_and_lists() -> None:
    params = {
        "request": "退保",
        "category": "surrender",
        "request_at": 10.0,
        "action": "帮您办理",
        "action_at": 15.0,
        "count": 1,
        "factors": ["id_card"],
        "required": 2,
    }
    zh = render("missing_identity_check.request", params, "zh")
    en = render("missing_identity_check.request", params, "en")
    assert "（退保，10.0 秒）" in zh and "（身份证号）" in zh
    assert "(surrender) at 10.0 s" in en and "(id_card)" in en


def test_unknown_key_language_or_parameter_is_invalid_input() -> None:
    with pytest.raises(MessageError, match="unknown evidence message"):
        render("nope.none", {})
    with pytest.raises(MessageError, match="language must be one of"):
        render("missing_closing.none", {"last": 30, "tail": ""}, "fr")
    with pytest.raises(MessageError, match="bad parameters"):
        render("missing_closing.none", {"last": 30})
    assert issubclass(MessageError, Invalid)


def test_domain_errors_of_lexicons_rule_sets_and_role_cues_are_invalid_input() -> None:
    for kind in (LexiconError, RoleCuesError, MessageError):
        assert issubclass(kind, Invalid) and issubclass(kind, ValueError)
    with pytest.raises(Invalid, match="duplicate term"):
        parse_lexicon("t", "工号\n工号\n")
