"""Matching by sound (拼音): ASR misrecognitions match, ordinary insurance talk does not.

The precision list is ordinary call-centre talk written from the vocabulary of the source
documents (seeds/000, 002, 003: 保单回访, 理赔, 核保, 续期, 犹豫期, 转接, 结束语 …), not from the
lexicons; no match by sound may fire on any of it in any lexicon that matches by sound. The
recall list is what Whisper base writes for the words the rules need.
"""

from __future__ import annotations

import pytest

from qa_platform.lexicon import LexiconError, load_lexicon, parse_lexicon

FUZZY_LEXICONS = (
    "abuse",
    "agent_id",
    "closing",
    "complaint_risk",
    "greeting",
    "identity_action",
    "identity_check",
    "identity_request",
    "misleading_promise",
    "policy_detail",
)

ORDINARY = [
    "您好，请问是张先生吗",
    "我这边是做保单回访的，占用您两分钟时间",
    "您的合同已经过了犹豫期",
    "理赔材料需要提供医院的诊断证明和发票原件",
    "请您把病历首页和费用清单一起寄过来",
    "我们会在五个工作日内给您回复",
    "核保结果出来以后会短信通知您",
    "续期保费会从您绑定的账户里自动扣除",
    "宽限期是六十天，过了宽限期合同效力会中止",
    "中止以后两年内可以申请复效",
    "被保险人需要如实告知健康状况",
    "投保人和被保险人可以是同一个人",
    "这款重疾险保障一百种重大疾病",
    "医疗险有一万元的免赔额",
    "意外险的等待期是零天",
    "年金险每年固定时间给付",
    "您可以登录我们的官方网站查看条款",
    "这个问题我需要转接到理赔部门",
    "转接大概需要等待一分钟左右",
    "麻烦您保持电话畅通",
    "我理解您着急的心情",
    "您的意思是希望尽快拿到赔款，对吗",
    "请您稍等，我记录一下您反映的问题",
    "我们承诺二十四小时内给您回电",
    "此为服务推荐，您可自主选择",
    "相关资料会通过短信和邮件发送给您",
    "好的，理解您的选择",
    "如有需要可以随时拨打我们的服务热线",
    "柜台早上九点开门",
    "您可以携带有效证件到就近的网点",
    "我们的营业网点周末也有人值班",
    "体检报告出来以后请上传到公众号",
    "您可以关注我们的公众号查看进度",
    "分红险的分红是不确定的",
    "万能险有保底利率",
    "您报案的时候需要说明出险经过",
    "出险以后请在四十八小时内报案",
    "我们回访是为了确认您了解合同内容",
    "您在投保的时候有没有收到纸质合同",
    "合同里面有一份产品说明书",
    "销售人员有没有向您解释免责条款",
    "您对我们的服务还满意吗",
    "稍后会有一条满意度短信，请您评价",
    "今天天气比较冷，注意保暖",
    "孩子的学平险明年记得续保",
    "您家里的车险下个月到期",
    "车险不是我们这边负责的",
    "我们这里只处理人身险业务",
    "这笔费用属于社保报销以后的自付部分",
    "住院期间的伙食费不在报销范围",
    "门诊费用需要达到起付线才能报销",
    "请问您现在方便接听电话吗",
    "材料齐全的话十个工作日内结案",
    "这个产品的保险期间是二十年",
    "缴费期间是十年，每年交一次",
    "您选择的是年交方式",
    "核保需要您补充一份体检报告",
    "如果有疑问可以向客服中心咨询",
    "我们的工作人员会上门收取材料",
    "请您核对一下收件信息是否正确",
    "好的，没问题，那就先这样",
    "我这边给您发一个链接",
    "链接打开以后按照提示操作",
    "公司最近有一个健康讲座活动",
    "工作人员会在公告栏张贴通知",
    "您先去医院挂号，挂号费也可以报销",
    "共计花费三千二百元",
    "员工们都在加班处理报案",
    "您合同上的地址是以前的老地址",
    "身体恢复得怎么样",
    "我们省里的分公司也可以办",
    "需要验证吗？不需要的",
    "您记着这个电话就行",
    "您家的新房装修好了吗",
    "拍了片子以后医生怎么说",
    "本单保费按年交",
    "请问是朱先生吗",
    "出生日期写在了投保单的第二页",
    "这个码的长度是六位",
    "是你吗？我听不太清楚",
    "您去四楼的柜台就可以",
    "他吗？他是我们的业务员",
]


def fuzzy_matches(text: str) -> list[tuple[str, str, str, str]]:
    found = []
    for name in FUZZY_LEXICONS:
        for m in load_lexicon(name).find(text):
            if m.via != "exact":
                found.append((name, m.term.key, m.quote, m.via))
    return found


def test_precision_list_is_long_enough_and_its_lexicons_match_by_sound() -> None:
    assert len(ORDINARY) >= 60
    assert all(load_lexicon(name).fuzzy != "none" for name in FUZZY_LEXICONS)


@pytest.mark.parametrize("text", ORDINARY)
def test_no_match_by_sound_in_ordinary_insurance_talk(text: str) -> None:
    assert fuzzy_matches(text) == []


MISHEARD = [
    ("agent_id", "我是坐席小王，公号三七五二", "工号", "公号"),
    ("agent_id", "我是坐席小王，功耗三七五二", "工号", "功耗"),
    ("agent_id", "工后幺二三四为您服务", "工号", "工后"),
    ("agent_id", "攻号三八二一", "工号", "攻号"),
    ("agent_id", "我的员工好是三八二一", "员工号", "员工好"),
    ("identity_check", "请提供您的身份正号后四位", "身份证号后四位", "身份正号后四位"),
    ("identity_check", "请报一下保单后六位", "保单号", "保单后"),
    ("identity_check", "请问您的出身日期", "出生日期", "出身日期"),
    ("identity_check", "再说一下您的预流手机号", "预留手机号", "预流手机号"),
    ("identity_check", "您的性命是", "您的姓名", "您的性命"),
    ("closing", "感谢您的来店，祝您生活愉快", "感谢您的来电", "感谢您的来店"),
    ("closing", "住您生活愉快", "祝您生活愉快", "住您生活愉快"),
    ("greeting", "您豪，这里是服务专线", "您好", "您豪"),
    ("abuse", "你就是个傻币", "傻逼", "傻币"),
    ("abuse", "你是神经并吧", "神经病", "神经并"),
    ("complaint_risk", "我要去银包监会告你们", "银保监会", "银包监会"),
    ("complaint_risk", "我打金融监管总居的电话", "金融监管总局", "金融监管总居"),
    ("identity_request", "受益人变根要什么材料", "受益人变更", "受益人变根"),
    ("identity_request", "我要推保", "退保", "推保"),
    ("identity_action", "好的，马上帮您办里", "帮您办理", "帮您办里"),
]


@pytest.mark.parametrize(("lexicon", "text", "key", "quote"), MISHEARD)
def test_asr_misrecognitions_match_by_sound(lexicon: str, text: str, key: str, quote: str) -> None:
    matches = [m for m in load_lexicon(lexicon).find(text) if m.term.key == key]
    assert [(m.quote, m.via != "exact") for m in matches] == [(quote, True)]


def test_a_homophone_is_not_a_near_match_and_near_needs_one_syllable_close() -> None:
    lx = parse_lexicon("t", "@fuzzy\tnear\n工号\n员工号\n保单号\n出生日期\n")
    assert [m.via for m in lx.find("功耗")] == ["homophone"]
    assert [m.via for m in lx.find("工后")] == ["near"]  # ou ~ ao: a near-homophone
    assert lx.find("公告") == [] and lx.find("挂号") == []  # 2 syllables: only near sounds
    assert lx.find("员工们") == [] and lx.find("保单上") == []  # 3 syllables: near sounds too
    assert lx.find("保单回") == [] and lx.find("院挂号") == []  # sharing an initial is not near
    assert [m.term.key for m in lx.find("保单后")] == ["保单号"]  # ou ~ ao
    assert [m.term.key for m in lx.find("出生日子")] == ["出生日期"]  # 4: a similar syllable
    assert lx.find("出生年子") == []  # but not two syllables off
    five = parse_lexicon("t", "@fuzzy\tnear\n预留手机号\n")
    assert [m.quote for m in five.find("预留手机好")] == ["预留手机好"]
    assert [m.quote for m in five.find("预留手机上")] == ["预留手机上"]  # 5+: any one syllable


def test_homophone_level_allows_no_near_match() -> None:
    lx = parse_lexicon("t", "@fuzzy\thomophone\n工号\n")
    assert [m.quote for m in lx.find("功耗")] == ["功耗"]
    assert lx.find("工后") == []


def test_default_is_exact_and_an_entry_can_opt_out_or_in() -> None:
    assert parse_lexicon("t", "工号\n").find("公号") == []
    lx = parse_lexicon("t", "@fuzzy\tnear\n工号\tfuzzy=no\n笨蛋\tfuzzy=homophone\n")
    assert lx.find("公号") == [] and lx.find("工号")
    assert [m.term.key for m in lx.find("本单")] == ["笨蛋"]
    opted_in = parse_lexicon("t", "工号\tfuzzy=homophone\n")
    assert [m.quote for m in opted_in.find("功耗")] == ["功耗"]


def test_single_characters_and_latin_never_match_by_sound() -> None:
    lx = parse_lexicon("t", "@fuzzy\tnear\n滚\tstandalone=yes\nsb\n")
    assert lx.find("棍") == [] and lx.find("滚") != []
    assert lx.find("sp") == []


def test_match_by_sound_maps_back_to_the_original_words() -> None:
    lx = parse_lexicon("t", "@fuzzy\tnear\n工号\n")
    [m] = lx.find("我是小王，公 號：三七五二")  # Traditional, spaced: normalised first
    assert m.quote == "公 號"
    assert "我是小王，公 號：三七五二"[m.original_start : m.original_end] == "公 號"


def test_negation_quotation_and_exceptions_apply_to_matches_by_sound() -> None:
    lx = parse_lexicon(
        "t",
        "@fuzzy\thomophone\n@negators\t不是\n@quote_cues\t您说\n骗人\n!骗人的把戏\n",
    )
    assert [m.quote for m in lx.find("你们就是片人")] == ["片人"]
    assert lx.find("我们不是片人") == []  # negated
    assert lx.find("您说我们片人，我理解") == []  # reported speech
    assert lx.find("您看这是片人的把戏") == []  # inside an exception heard the same way
    abuse = load_lexicon("abuse")
    assert [m.term.key for m in abuse.find("你是神经并")] == ["神经病"]
    assert abuse.find("我们不是神经并") == []
    assert abuse.find("您说我们是神经并，我理解") == []


def test_exact_match_wins_over_a_match_by_sound_of_another_entry() -> None:
    [m] = load_lexicon("abuse").find("煞笔")  # 傻逼 / 沙比 / 煞笔 sound alike
    assert m.term.key == "煞笔" and m.via == "exact"
    lx = parse_lexicon("t", "@fuzzy\tnear\n改一下受益人\n受益人变更\n")
    found = [(m.term.key, m.via) for m in lx.find("我想办一下受益人变更")]
    assert found == [("受益人变更", "exact")]  # the longer near match overlapping it loses
    phone = [(m.term.key, m.via) for m in load_lexicon("identity_check").find("您的预流手机号")]
    assert phone == [("预留手机号", "homophone")]  # covering the written 手机号 whole, it wins


@pytest.mark.parametrize(
    ("content", "problem"),
    [("@fuzzy\tmaybe\n工号\n", "@fuzzy"), ("工号\tfuzzy=sometimes\n", "fuzzy=")],
)
def test_bad_fuzzy_settings_name_the_problem(content: str, problem: str) -> None:
    with pytest.raises(LexiconError, match=problem):
        parse_lexicon("t", content, source="t.txt")


def test_syllables_split_fold_and_compare() -> None:
    from qa_platform.phonetic import Sound, compare, inventory, split, syllables, variants

    assert (split("zhuang").initial, split("zhuang").final) == ("zh", "uang")
    assert compare(split("hou"), split("hao")) == Sound.NEAR  # ou ~ ao
    assert compare(split("zan"), split("zhang")) == Sound.NEAR  # z ~ zh and an ~ ang
    assert compare(split("gao"), split("hao")) == Sound.SIMILAR  # same final only
    assert compare(split("men"), split("hao")) == Sound.OTHER
    assert len(inventory()) > 400
    near_hao = {s.text for s in variants(split("hao"), Sound.NEAR)}
    assert "hou" in near_hao and "gao" not in near_hao and "hao" not in near_hao
    assert [s.text if s else None for s in syllables("工号a1")] == ["gong", "hao", None, None]
