"""Abnormal-call rules and script compliance on transcript fixtures."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_platform.domain.transcript import AudioFeatures, Role, Segment, Span, Transcript, Word
from qa_platform.flags import FLAG_TYPES, default_rule_set, evaluate, render, rule_set_from_dict

RULES = default_rule_set()
GREETING = "您好，这里是安心保险服务专线，我是坐席小王，工号三八二一，请问有什么可以帮您"
CLOSING = "感谢您的来电，祝您生活愉快，再见"


def seg(role: Role, start: float, end: float, text: str, *, words: bool = True) -> Segment:
    """A segment whose words (one per character) are spread evenly over its time span."""
    step = (end - start) / max(len(text), 1)
    ws = [Word(ch, start + i * step, start + (i + 1) * step) for i, ch in enumerate(text)]
    return Segment("S" + role[0], role, start, end, text, ws if words else [])


def agent(start: float, end: float, text: str, **kw: bool) -> Segment:
    return seg(Role.AGENT, start, end, text, **kw)


def customer(start: float, end: float, text: str, **kw: bool) -> Segment:
    return seg(Role.CUSTOMER, start, end, text, **kw)


def run(segments: list[Segment] | None, duration: float = 120.0, **kw) -> list:
    features = kw.pop("features", None) or AudioFeatures(duration_s=duration)
    transcript = Transcript(segments) if segments is not None else None
    return evaluate(transcript, features, RULES, **kw)


def types(flags: list) -> list[str]:
    return [f.type for f in flags]


def english(flag) -> str:
    """The flag's evidence in English (the stored text is Chinese)."""
    return render(flag.evidence_key, flag.evidence_params, "en")


def compliant_call() -> list[Segment]:
    """A call that keeps every script rule (the baseline the other fixtures break)."""
    return [
        agent(1.0, 9.0, GREETING),
        customer(9.5, 13.0, "我想查一下我的保单"),
        agent(13.5, 20.0, "好的，为了核实您的身份，请您提供身份证号后四位和预留手机号"),
        customer(20.5, 25.0, "身份证后四位是幺二三四，手机是一三九"),
        agent(25.5, 32.0, "感谢您的配合，您的保单目前有效，下次缴费日期是三月一日"),
        customer(32.5, 34.0, "好的，谢谢"),
        agent(34.5, 40.0, "请问还有其他需要帮助的吗？" + CLOSING),
    ]


def test_compliant_call_has_no_flags() -> None:
    assert run(compliant_call()) == []


def test_flags_carry_type_severity_role_span_evidence_and_version() -> None:
    segments = compliant_call()
    segments[1] = customer(9.5, 13.0, "我要投诉你们")
    [flag] = run(segments)
    assert flag.type == "complaint_risk" and flag.role == Role.CUSTOMER
    assert flag.severity == "warning" and flag.rule_set_version == RULES.version
    assert "投诉" in flag.evidence
    assert 9.5 < flag.start < flag.end < 13.0  # the words' times, not the segment's
    assert set(flag.to_dict()) >= {"type", "severity", "role", "start", "end", "evidence"}


# ----------------------------------------------------------------------------- duration, silence


@pytest.mark.parametrize(("duration", "fires"), [(10.0, True), (9.0, True), (10.01, False)])
def test_ultra_short_fires_at_the_threshold_and_below(duration: float, fires: bool) -> None:
    assert ("ultra_short" in types(run(None, duration))) is fires


@pytest.mark.parametrize(("duration", "fires"), [(1800.0, True), (1799.9, False)])
def test_ultra_long_fires_at_the_threshold_not_below(duration: float, fires: bool) -> None:
    assert ("ultra_long" in types(run(None, duration))) is fires


def test_outbound_and_business_line_overrides_change_thresholds() -> None:
    assert "ultra_short" in types(run(None, 8.0, direction="in"))
    assert "ultra_short" not in types(run(None, 8.0, direction="out"))
    assert "ultra_long" in types(run(None, 1300.0, direction="out"))
    assert "ultra_long" not in types(run(None, 2000.0, direction="in", business_type="claims"))
    assert "ultra_long" in types(run(None, 2000.0, direction="in", business_type="sales"))


@pytest.mark.parametrize(("length", "fires"), [(10.0, True), (12.5, True), (9.99, False)])
def test_long_silence_fires_at_the_threshold_not_below(length: float, fires: bool) -> None:
    features = AudioFeatures(duration_s=120.0, silence_segments=[Span(40.0, 40.0 + length)])
    flags = [f for f in run(compliant_call(), features=features) if f.type == "long_silence"]
    assert bool(flags) is fires
    if fires:
        assert (flags[0].start, flags[0].end) == (40.0, round(40.0 + length, 3))
        assert f"{length:.1f} s" in english(flags[0])


@pytest.mark.parametrize(("ratio", "fires"), [(0.4, True), (0.39, False)])
def test_silence_ratio_threshold(ratio: float, fires: bool) -> None:
    features = AudioFeatures(duration_s=120.0, silence_ratio=ratio)
    assert ("silence_ratio" in types(run(compliant_call(), features=features))) is fires


def test_call_of_pure_silence_is_flagged_without_script_flags() -> None:
    features = AudioFeatures(
        duration_s=45.0,
        silence_segments=[Span(0.0, 45.0)],
        longest_silence_s=45.0,
        silence_ratio=1.0,
    )
    assert sorted(types(run(None, features=features))) == ["long_silence", "silence_ratio"]
    assert sorted(types(run([], features=features))) == ["long_silence", "silence_ratio"]


# ----------------------------------------------------------------------------- script compliance


def test_greeting_within_the_first_seconds_of_agent_speech() -> None:
    late = [agent(2.0, 12.5, "请稍等，我这边看一下系统，好了"), agent(12.5, 20.0, GREETING)]
    late += compliant_call()[1:]
    flags = [f for f in run(late) if f.type == "missing_greeting"]
    assert len(flags) == 1 and flags[0].start == 2.0 and flags[0].end == 12.0
    assert "请稍等" in flags[0].evidence


def test_greeting_just_inside_the_window_passes() -> None:
    # 20 characters over 10 s: 您好 starts at 9.5 s, inside [2, 12)
    segments = [agent(2.0, 12.0, "请稍等我这边看一下系统好了马上就好您好")]
    assert "missing_greeting" not in types(run(segments + compliant_call()[1:]))


def test_missing_agent_id() -> None:
    segments = compliant_call()
    segments[0] = agent(1.0, 6.0, "您好，请问有什么可以帮您")
    assert "missing_agent_id" in types(run(segments))


def test_a_number_the_agent_goes_by_states_the_staff_number() -> None:
    segments = compliant_call()
    segments[0] = agent(1.0, 8.0, "您好，恒泰人寿，二零四七号客服为您服务，请问有什么可以帮您")
    assert "missing_agent_id" not in types(run(segments))
    segments[0] = agent(1.0, 8.0, "您好，恒泰人寿，请问有什么可以帮您，我们有二十四号线路")
    assert "missing_agent_id" in types(run(segments))
    segments[0] = agent(
        1.0, 8.0, "您好 恒态 人受 2047 号 客服为您服务 请问有什么可以帮您"
    )  # as ASR spaces it
    assert "missing_agent_id" not in types(run(segments))


def test_an_action_announced_before_the_check_in_the_same_turn_is_not_the_act() -> None:
    segments = compliant_call()
    segments[2] = agent(
        13.5, 20.0, "我来帮您办理，变更之前需要先核实身份，请您提供身份证号后四位和预留手机号"
    )
    assert "missing_identity_check" not in types(run(segments))
    segments[2] = agent(13.5, 20.0, "我来帮您办理")  # acts with no check at all
    segments[4] = agent(25.5, 32.0, "已经为您办理好了，您的保单目前有效")
    assert "missing_identity_check" in types(run(segments))


def test_identity_check_before_policy_details_passes() -> None:
    assert "missing_identity_check" not in types(run(compliant_call()))


def test_single_factor_before_policy_details_is_flagged() -> None:
    segments = compliant_call()
    segments[2] = agent(13.5, 20.0, "好的，请您提供身份证号后四位")
    [flag] = [f for f in run(segments) if f.type == "missing_identity_check"]
    assert flag.severity == "critical" and flag.role == Role.AGENT
    assert "1 identity factor(s) (id_card)" in english(flag)
    assert 25.5 <= flag.start < 32.0


def test_factors_the_customer_states_count_before_the_agent_acts() -> None:
    segments = compliant_call()
    segments[2] = agent(13.5, 20.0, "好的，为了核实您的身份，麻烦您说一下")
    segments[3] = customer(20.5, 25.0, "投保人是刘芳，手机尾号是四八二零")
    assert "missing_identity_check" not in types(run(segments))
    segments[3] = customer(20.5, 25.0, "投保人是刘芳")  # one factor only
    [flag] = [f for f in run(segments) if f.type == "missing_identity_check"]
    assert "1 identity factor(s) (name)" in english(flag)


def test_a_number_factor_named_without_its_number_is_no_factor() -> None:
    segments = compliant_call()
    segments[1] = customer(9.5, 13.0, "我想查一下我的保单，顺便改一下手机号和身份证号")
    segments[2] = agent(13.5, 20.0, "好的，请您提供身份证号后四位")
    segments[3] = customer(20.5, 25.0, "好的")
    [flag] = [f for f in run(segments) if f.type == "missing_identity_check"]
    assert "1 identity factor(s) (id_card)" in english(flag)


def test_identity_check_after_policy_details_is_flagged() -> None:
    c = compliant_call()
    reordered = [c[0], c[1], agent(13.5, 20.0, "您的保单目前有效"), c[2], c[3], c[6]]
    assert "missing_identity_check" in types(run(reordered))


def test_a_request_whose_verb_was_misheard_is_known_by_the_agent_taking_it_on() -> None:
    """Whisper wrote 改一下 as 展一下; the agent's 我这边帮您改 says what was asked."""
    call = compliant_call()
    call[1] = customer(9.5, 13.0, "我搬家了，想把保单上的通信地址和联系电话展一下")
    call[2] = agent(13.5, 20.0, "好的，没问题，我这边帮您改")
    call[3] = customer(20.5, 25.0, "好的")
    call[4] = agent(25.5, 32.0, "已经为您提交变更，稍后会有短信确认")
    assert "missing_identity_check" in types(run(call))
    checked = compliant_call()
    checked[1] = customer(9.5, 13.0, "我搬家了，想把保单上的通信地址和联系电话展一下")
    assert "missing_identity_check" not in types(run(checked))  # asked two factors first


def test_call_without_policy_details_needs_no_identity_check() -> None:
    segments = [
        agent(1.0, 9.0, GREETING),
        customer(9.5, 12.0, "你们的营业时间是几点"),
        agent(12.5, 18.0, "我们是早九点到晚六点。" + CLOSING),
    ]
    assert "missing_identity_check" not in types(run(segments))


def test_closing_phrase_missing_or_too_early() -> None:
    c = compliant_call()
    no_closing = [*c[:-1], agent(34.5, 40.0, "好的，就这样")]
    assert "missing_closing" in types(run(no_closing))
    early = [agent(1.0, 9.0, GREETING + "，再见"), *c[1:-1], agent(34.5, 80.0, "好的" * 20)]
    assert "missing_closing" in types(run(early))


def test_script_rules_need_agent_speech() -> None:
    flags = types(run([customer(0.0, 5.0, "喂？喂？")]))
    assert not {"missing_greeting", "missing_agent_id", "missing_closing"} & set(flags)


@pytest.mark.parametrize(("fillers", "fires"), [(6, True), (5, False)])
def test_filler_words_per_minute_threshold(fillers: int, fires: bool) -> None:
    # exactly one minute of agent speech: 6 fillers = 6/min reaches the threshold
    body = "嗯，" * fillers + "这个问题我帮您记录一下。" + CLOSING
    segments = [agent(0.0, 10.0, GREETING), customer(10.0, 12.0, "好"), agent(12.0, 62.0, body)]
    assert ("filler_words" in types(run(segments))) is fires


def test_filler_words_fire_over_the_rate() -> None:
    body = "嗯，" * 10 + "呃，" * 5 + "好的"
    segments = [agent(1.0, 9.0, GREETING), agent(10.0, 70.0, body), *compliant_call()[1:]]
    [flag] = [f for f in run(segments) if f.type == "filler_words"]
    assert "嗯×10" in flag.evidence


@pytest.mark.parametrize(("chars", "fires"), [(150, False), (180, False), (181, True), (89, True)])
def test_speech_rate_outside_range_with_tolerance(chars: int, fires: bool) -> None:
    # one minute of agent speech holding ``chars`` characters (punctuation is not counted)
    segments = [agent(0.0, 60.0, "，".join("保" * chars))]
    assert ("speech_rate" in types(run(segments))) is fires


def test_interruption_needs_the_minimum_overlap() -> None:
    base = [
        agent(1.0, 9.0, GREETING),
        customer(10.0, 20.0, "我想问一下我的理赔进度怎么样了"),
        agent(34.5, 40.0, CLOSING),
    ]
    cut_in = [*base, agent(18.5, 25.0, "您先别说了，听我讲")]
    short = [*base, agent(19.5, 25.0, "好的，我明白了")]
    [flag] = [f for f in run(cut_in) if f.type == "interruption"]
    assert flag.start == 18.5 and "overlap 1.5 s" in english(flag)
    assert "interruption" not in types(run(short))


def test_interruption_reads_when_the_customer_talks_not_the_segment_span() -> None:
    # Whisper joined "好吧，那我等电话" (10–12 s) and "没有了" (21–22 s) into one segment.
    words = [Word(ch, 10.0 + i * 0.25, 10.25 + i * 0.25) for i, ch in enumerate("好吧那我等电话")]
    words += [Word(ch, 21.0 + i * 0.3, 21.3 + i * 0.3) for i, ch in enumerate("没有了")]
    joined = Segment("SC", Role.CUSTOMER, 10.0, 22.0, "好吧那我等电话没有了", words)
    base = [agent(1.0, 9.0, GREETING), joined, agent(34.5, 40.0, CLOSING)]
    in_the_pause = [*base, agent(14.0, 19.0, "好的请您保持电话畅通")]
    over_words = [*base, agent(10.2, 14.0, "好的请您保持电话畅通")]
    assert "interruption" not in types(run(in_the_pause))
    [flag] = [f for f in run(over_words) if f.type == "interruption"]
    assert flag.start == pytest.approx(10.2) and "overlap 1.6 s" in english(flag)


def test_interruption_is_confirmed_by_the_measured_overlap_of_the_channels() -> None:
    base = [
        agent(1.0, 9.0, GREETING),
        customer(10.0, 20.0, "我想问一下我的理赔进度怎么样了"),
        agent(34.5, 40.0, CLOSING),
    ]
    cut_in = [*base, agent(18.5, 25.0, "您先别说了，听我讲")]  # words overlap by 1.5 s
    talk = {"agent": 20.0, "customer": 10.0}
    quiet = AudioFeatures(duration_s=120.0, talk_time_s=talk)  # channels: no overlap
    both = AudioFeatures(duration_s=120.0, talk_time_s=talk, overlap_segments=[Span(18.6, 20.0)])
    assert "interruption" not in types(run(cut_in, features=quiet))
    [flag] = [f for f in run(cut_in, features=both) if f.type == "interruption"]
    assert "overlap 1.4 s" in english(flag)


def test_asr_unreliable_segments() -> None:
    segments = compliant_call()
    segments[1] = Segment(
        "SC", Role.CUSTOMER, 9.5, 13.0, "谢谢观看谢谢观看", unreliable="repetition loop"
    )
    segments[3] = Segment("SC", Role.CUSTOMER, 20.5, 25.0, "幺二三四", confidence=0.2)
    flags = [f for f in run(segments) if f.type == "asr_unreliable"]
    assert [f.start for f in flags] == [9.5, 20.5]
    assert "repetition loop" in english(flags[0]) and "confidence 0.20" in english(flags[1])


# ----------------------------------------------------------------------------- phrases by role


def test_contempt_is_abuse_and_a_retold_insult_is_not() -> None:
    contempt = compliant_call()
    contempt[4] = agent(25.5, 32.0, "短信早就发给你了，你是不识字吗？您的保单目前有效")
    assert "abuse_agent" in types(run(contempt))
    retold = compliant_call()
    retold[1] = customer(9.5, 13.0, "上次那个客服还说我是神经病，我想查一下我的保单")
    assert "abuse_customer" not in types(run(retold))


def test_everyday_insults_of_the_agent_are_abuse() -> None:
    for words in ("你们这群饭桶，脑子里装的都是浆糊吗", "你这个二百五", "你们真不要脸"):
        call = compliant_call()
        call[3] = customer(20.5, 25.0, words)
        assert "abuse_customer" in types(run(call)), words


def test_a_name_misheard_as_an_insult_in_an_identity_statement_is_not_abuse() -> None:
    named = compliant_call()
    named[3] = customer(20.5, 25.0, "投保人是流氓，身份证后四位是幺二三四")  # 刘芳, misheard
    assert "abuse_customer" not in types(run(named))
    named[3] = customer(20.5, 25.0, "你们就是流氓，身份证后四位是幺二三四")
    assert "abuse_customer" in types(run(named))


def test_abuse_by_agent_versus_agent_quoting_the_customer() -> None:
    quoting = compliant_call()
    quoting[2] = agent(
        13.5, 20.0, "您说我们是骗子，我理解。为了核实您的身份，请您提供身份证号后四位和预留手机号"
    )
    assert "abuse_agent" not in types(run(quoting))
    rude = compliant_call()
    rude[2] = agent(13.5, 20.0, "你有病吧，请您提供身份证号后四位和预留手机号")
    [flag] = [f for f in run(rude) if f.type == "abuse_agent"]
    assert flag.severity == "critical" and "你有病" in flag.evidence


def test_customer_abuse_and_complaint_risk_severity_comes_from_the_term() -> None:
    segments = compliant_call()
    segments[1] = customer(9.5, 13.0, "傻逼，我要打12378")
    flags = {f.type: f for f in run(segments)}
    assert flags["abuse_customer"].severity == "critical"  # term severity raises the rule's floor
    assert flags["complaint_risk"].severity == "critical"


def test_agent_mentioning_complaints_is_not_a_complaint_risk() -> None:
    segments = compliant_call()
    segments[-1] = agent(34.5, 40.0, "如果不满意可以拨打投诉热线。" + CLOSING)
    assert "complaint_risk" not in types(run(segments))


def test_misleading_promise_only_from_the_agent() -> None:
    segments = compliant_call()
    segments[1] = customer(9.5, 13.0, "这个产品保本吗")
    assert "misleading_promise" not in types(run(segments))
    segments[2] = agent(13.5, 20.0, "保本保息，放心。请您提供身份证号后四位和预留手机号")
    assert "misleading_promise" in types(run(segments))


def test_segments_without_word_times_are_placed_by_interpolation() -> None:
    segments = compliant_call()
    segments[1] = customer(10.0, 20.0, "好的然后呢我要投诉", words=False)
    [flag] = [f for f in run(segments) if f.type == "complaint_risk"]
    assert flag.start == pytest.approx(10.0 + 10 * 7 / 9, abs=1e-3) and flag.end == 20.0


# ----------------------------------------------------------------------------- the engine


def test_disabled_rule_produces_nothing() -> None:
    data = RULES.to_dict()
    data["rules"]["ultra_short"]["enabled"] = False
    rules = rule_set_from_dict(data)
    assert "ultra_short" not in types(evaluate(None, AudioFeatures(duration_s=3.0), rules))


def test_bad_direction_is_rejected() -> None:
    with pytest.raises(ValueError, match="direction must be one of"):
        evaluate(None, AudioFeatures(duration_s=3.0), RULES, direction="inbound")


def test_catalogue_names_are_the_contract() -> None:
    assert FLAG_TYPES == (
        "ultra_short",
        "ultra_long",
        "long_silence",
        "silence_ratio",
        "abuse_agent",
        "abuse_customer",
        "missing_greeting",
        "missing_agent_id",
        "missing_identity_check",
        "missing_closing",
        "filler_words",
        "speech_rate",
        "interruption",
        "complaint_risk",
        "misleading_promise",
        "asr_unreliable",
        "customer_negative_end",
        "outbound_hours",
        "outbound_cooling",
        "outbound_identity",
        "outbound_disclaimer",
        "outbound_refusal",
        "outbound_pushing",
    )


# ----------------------------------------------------------------------------- robustness

_PHRASES = [
    "您好",
    "工号",
    "骗子",
    "我要投诉",
    "保本",
    "嗯，",
    "再见",
    "身份证号",
    "您的保单",
    "公号三七",
    "我要退保",
    "帮您办理",
    "[手机号]",
    "，",
    "sb",
    "  ",
]
_TEXT = st.lists(st.one_of(st.sampled_from(_PHRASES), st.text(max_size=5)), max_size=8).map("".join)
_SEGMENT = st.builds(
    lambda role, start, length, text, words, conf, unreliable: (
        seg(role, start, start + length, text, words=words)
        if not unreliable
        else Segment("S", role, start, start + length, text, confidence=conf, unreliable="loop")
    ),
    st.sampled_from(list(Role)),
    st.floats(0, 600),
    st.floats(0, 60),
    _TEXT,
    st.booleans(),
    st.floats(0, 1),
    st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_SEGMENT, max_size=12), st.floats(0, 4000), st.sampled_from(["in", "out"]))
def test_any_transcript_gives_well_formed_flags(segments, duration, direction) -> None:
    flags = evaluate(
        Transcript(segments), AudioFeatures(duration_s=duration), RULES, direction=direction
    )
    for f in flags:
        assert f.type in FLAG_TYPES and f.start <= f.end and f.evidence
        assert f.rule_set_version == RULES.version
        assert english(f) and f.evidence == render(f.evidence_key, f.evidence_params, "zh")


# ----------------------------------------------------------------------------- 工号 as the ASR hears it


def with_opening(text: str) -> list[Segment]:
    return [agent(1.0, 9.0, text), *compliant_call()[1:]]


@pytest.mark.parametrize(
    "opening",
    [
        "您好，我是坐席小王，公号三七五二，请问有什么可以帮您",  # homophone + number
        "您好，我是坐席小王，功耗三七五二，请问有什么可以帮您",
        "您好，我是坐席小王，工后幺二三四，请问有什么可以帮您",  # near-homophone + number
        "您好，我是坐席小王，公号是[数字]，请问有什么可以帮您",  # the number already masked
        "您好，我是坐席3821号，请问有什么可以帮您",
        "您好，我是三八二一号，请问有什么可以帮您",  # 我是X号
        "您好，我的编号是三八二一，请问有什么可以帮您",  # 编号 with a number
        "您好，我是坐席小王，工号三八二一",  # as written
    ],
)
def test_agent_id_said_as_the_asr_writes_it(opening: str) -> None:
    assert "missing_agent_id" not in types(run(with_opening(opening)))


@pytest.mark.parametrize(
    "opening",
    [
        "您好，我是坐席小王，这款空调功耗很低，请问有什么可以帮您",  # sound-alike, no number
        "您好，请问有什么可以帮您，您的编号我记下了",  # 编号 without a number
        "您好，我是坐席小王，请问有什么可以帮您",
    ],
)
def test_sound_alikes_without_a_number_are_not_an_agent_id(opening: str) -> None:
    [flag] = [f for f in run(with_opening(opening)) if f.type == "missing_agent_id"]
    assert flag.evidence.startswith("坐席开口后 30 秒内未自报工号")


# ----------------------------------------------------------------------------- identity check


def identity_call(*middle: Segment) -> list[Segment]:
    return [
        agent(1.0, 9.0, GREETING),
        *middle,
        agent(60.0, 66.0, "请问还有其他需要帮助的吗？" + CLOSING),
    ]


def identity_flags(*middle: Segment) -> list:
    return [f for f in run(identity_call(*middle)) if f.type == "missing_identity_check"]


def test_two_factors_before_acting_on_a_beneficiary_change_pass() -> None:
    assert not identity_flags(
        customer(10.0, 14.0, "我想变更受益人"),
        agent(15.0, 22.0, "好的，请您提供身份证号后四位和出生日期"),
        customer(23.0, 27.0, "幺二三四，一九八零年三月一日"),
        agent(28.0, 34.0, "好的，核实无误，现在帮您办理受益人变更"),
    )


def test_factors_asked_before_the_request_count() -> None:
    assert not identity_flags(
        agent(10.0, 16.0, "为了核实您的身份，请提供保单号后六位和预留手机号"),
        customer(17.0, 21.0, "好的。我要改一下地址"),
        agent(22.0, 28.0, "好的，已经为您修改"),
    )


def test_beneficiary_change_without_any_check_is_flagged_with_the_request() -> None:
    [flag] = identity_flags(
        customer(10.0, 14.0, "我想把受益人改成我女儿"),
        agent(15.0, 22.0, "好的，马上帮您办理"),
    )
    assert flag.severity == "critical" and flag.role == Role.AGENT
    assert 15.0 <= flag.start < flag.end <= 22.0  # the moment the agent acts
    assert flag.evidence_params["request"] == "受益人改成"
    assert 10.0 <= flag.evidence_params["request_at"] < 14.0
    assert flag.evidence.startswith("客户请求“受益人改成”（受益人变更")
    assert "只核验了 0 项身份要素（无），要求 2 项" in flag.evidence
    assert "request “受益人改成” (beneficiary change)" in english(flag)


def test_one_factor_is_not_enough() -> None:
    [flag] = identity_flags(
        customer(10.0, 14.0, "我要退保"),
        agent(15.0, 20.0, "请您提供身份证号后四位"),
        customer(21.0, 24.0, "幺二三四"),
        agent(25.0, 30.0, "好的，帮您提交退保申请"),
    )
    assert flag.evidence_params["factors"] == ["id_card"]
    assert "只核验了 1 项身份要素（身份证号）" in flag.evidence


def test_factors_asked_after_acting_do_not_count() -> None:
    [flag] = identity_flags(
        customer(10.0, 14.0, "帮我查一下保单详情"),
        agent(15.0, 22.0, "好的，系统显示您这份保单目前有效"),
        agent(23.0, 30.0, "另外请您提供身份证号后四位和出生日期"),
    )
    assert 15.0 <= flag.start < 22.0


def test_no_request_needs_no_check() -> None:
    assert not identity_flags(
        customer(10.0, 14.0, "你们的营业时间是几点"),
        agent(15.0, 22.0, "我们是早九点到晚六点，您的保单可以在官网自助查看"),
    )


def test_agent_refusing_to_act_needs_no_check() -> None:
    assert not identity_flags(
        customer(10.0, 14.0, "我想变更受益人"),
        agent(15.0, 25.0, "抱歉，电话里无法为您办理受益人变更，请您本人携带身份证到柜台"),
    )


def test_negated_request_is_not_a_request() -> None:
    assert not identity_flags(
        customer(10.0, 14.0, "我不想退保，就是问问"),
        agent(15.0, 22.0, "好的，帮您查一下相关规定"),
    )


def test_misheard_request_and_factor_names_still_count() -> None:
    assert identity_flags(customer(10.0, 14.0, "我要推保"), agent(15.0, 22.0, "好的，帮您办理"))
    assert not identity_flags(
        customer(10.0, 14.0, "我要推保"),
        agent(14.5, 20.0, "请提供您的身份正号后四位和保单后六位"),
        agent(21.0, 26.0, "好的，帮您办理"),
    )


# ----------------------------------------------------------------------------- speech rate


def test_masked_personal_data_is_not_counted_as_speech() -> None:
    # 150 spoken characters in one minute: within the range; the mask tokens would add 70
    text = "保" * 150 + "[身份证号]" * 10 + "＊" * 30
    flags = run([agent(0.0, 60.0, text)])
    assert "speech_rate" not in types(flags)
    unmasked = "保" * 150 + "身份证号" * 10 + "星" * 30
    [flag] = [f for f in run([agent(0.0, 60.0, unmasked)]) if f.type == "speech_rate"]
    assert flag.evidence_params["characters"] == 220 and flag.evidence_params["side"] == "fast"


def test_speech_rate_uses_voiced_time_not_wall_time() -> None:
    # 150 characters voiced over 60 s inside a 120 s agent turn: 150 字/分钟, not 75
    words = [Word("保", i * 0.4, i * 0.4 + 0.4) for i in range(150)]
    segment = Segment("SA", Role.AGENT, 0.0, 120.0, "保" * 150, words)
    assert "speech_rate" not in types(run([segment]))
    no_words = Segment("SA", Role.AGENT, 0.0, 120.0, "保" * 150)
    [flag] = [f for f in run([no_words]) if f.type == "speech_rate"]
    assert flag.evidence_params["side"] == "slow" and "过慢" in flag.evidence


def test_voice_activity_of_the_agent_channel_wins() -> None:
    features = AudioFeatures(duration_s=120.0, talk_time_s={"agent": 45.0, "customer": 30.0})
    [flag] = [
        f for f in run([agent(0.0, 60.0, "保" * 150)], features=features) if f.type == "speech_rate"
    ]
    assert flag.evidence_params["cpm"] == 200.0 and flag.evidence_params["seconds"] == 45.0


def test_speaking_time_with_phrase_pauses_is_what_the_rate_is_heard_over() -> None:
    # 190 characters: 228 字/分钟 over 50 s voiced (flagged), 163 over the 70 s of talk with its
    # pauses between phrases (within 150 + 30)
    talk = {"agent": 50.0, "customer": 30.0}
    voiced_only = AudioFeatures(duration_s=120.0, talk_time_s=talk)
    with_pauses = AudioFeatures(
        duration_s=120.0, talk_time_s=talk, speaking_time_s={"agent": 70.0, "customer": 33.0}
    )
    said = [agent(0.0, 90.0, "保" * 190)]
    assert "speech_rate" in types(run(said, features=voiced_only))
    assert "speech_rate" not in types(run(said, features=with_pauses))


# ----------------------------------------------------------------------------- evidence languages


def test_evidence_is_chinese_and_renders_in_english() -> None:
    segments = compliant_call()
    segments[-1] = agent(34.5, 40.0, "好的，就这样")
    [flag] = [f for f in run(segments) if f.type == "missing_closing"]
    assert flag.evidence == "坐席最后 30 秒内没有结束语：“好的，就这样”"
    assert english(flag) == "no closing phrase in the last 30 s of agent speech: “好的，就这样”"
    assert flag.to_dict()["evidence_key"] == "missing_closing.none"


def test_phrase_evidence_quotes_the_original_words() -> None:
    segments = compliant_call()
    segments[1] = customer(9.5, 13.0, "我要去銀保監會投訴")
    flag = next(f for f in run(segments) if f.type == "complaint_risk")
    assert flag.evidence == "“銀保監會”，原话：“我要去銀保監會投訴”"
    assert english(flag).startswith("“銀保監會” in ")
