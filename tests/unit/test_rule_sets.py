"""Rule sets: versioned data validated on load with errors that name the file and the key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from qa_platform.flags import RuleSetError, default_rule_set, load_rule_set, parse_rule_set
from qa_platform.flags.rule_set import RULE_PARAMS, default_rule_set_path, rule_set_from_dict

BASE = default_rule_set().to_dict()


def with_change(path: str, value: object) -> dict:
    """A copy of the default rule set with one dotted key set (``None`` deletes it)."""
    data = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node = data
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return data


def test_default_rule_set_loads_with_version_and_hash() -> None:
    rules = default_rule_set()
    assert rules.version == "2026.12-default-6"
    assert len(rules.content_hash) == 64
    assert set(rules.rules) == set(RULE_PARAMS)


def test_hash_changes_with_content_and_not_with_formatting(tmp_path: Path) -> None:
    rules = default_rule_set()
    reformatted = tmp_path / "same.yaml"
    reformatted.write_text(yaml.safe_dump(BASE, sort_keys=True, indent=4), encoding="utf-8")
    assert load_rule_set(reformatted).content_hash == rules.content_hash
    changed = rule_set_from_dict(with_change("rules.long_silence.min_silence_s", 8))
    assert changed.content_hash != rules.content_hash


def test_round_trip_through_yaml() -> None:
    rules = default_rule_set()
    again = parse_rule_set(rules.to_yaml())
    assert again.content_hash == rules.content_hash
    assert again.resolve("out")["ultra_long"]["min_duration_s"] == 1200


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("colour", "red", r"colour: unknown key"),
        ("version", None, r"version: is required"),
        ("version", "v" * 65, r"version: must be at most 64 characters, got 65"),
        ("rules.ultra_short.max_duration", 3, r"rules\.ultra_short\.max_duration: unknown key"),
        ("rules.no_such_rule", {}, r"rules\.no_such_rule: unknown key"),
        ("rules.long_silence", None, r"rules\.long_silence: missing"),
        ("rules.long_silence.min_silence_s", None, r"rules\.long_silence\.min_silence_s: missing"),
        ("rules.long_silence.min_silence_s", "ten", r"min_silence_s: must be a number, got 'ten'"),
        ("rules.long_silence.min_silence_s", -1, r"min_silence_s: must be ≥ 0, got -1"),
        ("rules.long_silence.min_silence_s", True, r"min_silence_s: must be a number, got True"),
        (
            "rules.silence_ratio.max_ratio",
            1.5,
            r"max_ratio: is a ratio and must be between 0 and 1",
        ),
        ("rules.interruption.max_count", 1.5, r"max_count: must be a whole number"),
        ("rules.missing_identity_check.min_factors", 0, r"min_factors: must be ≥ 1"),
        (
            "rules.missing_identity_check.request_lexicon",
            "nope",
            r"rules\.missing_identity_check\.request_lexicon: lexicon 'nope' not found",
        ),
        (
            "rules.missing_identity_check.action_lexicon",
            None,
            r"rules\.missing_identity_check\.action_lexicon: missing",
        ),
        ("rules.missing_agent_id.number_within", 1.5, r"number_within: must be a whole number"),
        (
            "rules.speech_rate.min_cpm",
            200,
            r"rules\.speech_rate\.min_cpm: 200 is above speech_rate\.max_cpm=150",
        ),
        (
            "rules.ultra_short.max_duration_s",
            4000,
            r"ultra_short\.max_duration_s: 4000 is above ultra_long",
        ),
        ("rules.ultra_short.enabled", "yes", r"enabled: must be true or false"),
        ("rules.ultra_short.severity", "fatal", r"severity: must be one of"),
        (
            "rules.abuse_agent.lexicon",
            "nope",
            r"rules\.abuse_agent\.lexicon: lexicon 'nope' not found",
        ),
        ("overrides", {"a": 1}, r"overrides: must be a list"),
        (
            "overrides.0.when.direction",
            "inbound",
            r"overrides\[0\]\.when\.direction: must be one of",
        ),
        ("overrides.0.when.channel", "x", r"overrides\[0\]\.when\.channel: unknown key"),
        (
            "overrides.0.rules.ultra_long.min_duration_s",
            -5,
            r"overrides\[0\]\.rules\.ultra_long\.min_duration_s: must be ≥ 0",
        ),
        (
            "overrides.0.rules.speech_rate",
            {"max_cpm": 100},
            r"overrides\[0\]\.rules\.speech_rate\.min_cpm: 120 is above",
        ),
    ],
)
def test_invalid_rule_sets_name_the_file_and_key(path: str, value: object, message: str) -> None:
    with pytest.raises(RuleSetError, match=r"^mine\.yaml: ([\w\[\]]+\.)*" + message):
        rule_set_from_dict(with_change(path, value), source="mine.yaml")


def test_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: [unclosed\n", encoding="utf-8")
    with pytest.raises(RuleSetError, match=r"bad\.yaml: not valid YAML"):
        load_rule_set(bad)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(RuleSetError, match=r"absent\.yaml: cannot read rule set"):
        load_rule_set(tmp_path / "absent.yaml")


def test_document_must_be_a_mapping() -> None:
    with pytest.raises(RuleSetError, match=r"x\.yaml: a rule set must be a mapping, got list"):
        parse_rule_set("- 1\n- 2\n", source="x.yaml")


def test_overrides_apply_in_order_and_only_when_they_match() -> None:
    data = copy.deepcopy(BASE)
    data["overrides"].append(
        {
            "when": {"direction": "out", "business_type": "renewal"},
            "rules": {"ultra_long": {"min_duration_s": 600}},
        }
    )
    rules = rule_set_from_dict(data)
    assert rules.resolve("out", "renewal")["ultra_long"]["min_duration_s"] == 600
    assert rules.resolve("out", "sales")["ultra_long"]["min_duration_s"] == 1200
    assert rules.resolve("in", "renewal")["ultra_long"]["min_duration_s"] == 1800


def test_packaged_default_file_is_the_one_loaded() -> None:
    assert load_rule_set(default_rule_set_path()).content_hash == default_rule_set().content_hash


def test_rule_set_errors_are_invalid_input() -> None:
    from qa_platform.domain.errors import Invalid, QaError

    with pytest.raises(Invalid) as caught:
        parse_rule_set("- 1\n", source="x.yaml")
    assert isinstance(caught.value, QaError) and isinstance(caught.value, ValueError)


def test_a_rule_set_stored_before_a_parameter_existed_still_loads_with_its_default() -> None:
    older = with_change("rules.missing_identity_check.given_lexicon", None)
    del older["rules"]["missing_identity_check"]["given_number_within"]
    loaded = rule_set_from_dict(older)
    params = loaded.resolve("in")["missing_identity_check"]
    assert params["given_lexicon"] == "identity_given" and params["given_number_within"] == 4
    required = with_change("rules.missing_identity_check.identity_lexicon", None)
    with pytest.raises(RuleSetError, match=r"missing_identity_check\.identity_lexicon: missing"):
        rule_set_from_dict(required)
