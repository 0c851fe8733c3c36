"""Maintained phrase lists (词库) matched with an Aho-Corasick automaton after normalisation.

A lexicon file (``qa_platform/data/lexicons/<name>.txt``) holds one entry per line::

    # comment
    骗子<TAB>severity=warning<TAB>category=insult
    !防范骗子                      exception: a match inside it is not a match
    @negators<TAB>不是|并不是|没有   directive (see ``_DIRECTIVES``)

Terms and exceptions are normalised with :func:`qa_platform.text.normalise`, so one entry
matches Traditional, full-width, spaced-out and punctuated spellings alike. Matching reports
positions in the original text. Where a lexicon asks for it, a match is dropped when it is:

* inside an exception phrase (``!不保本`` drops 保本 there; ``!防范骗子`` drops 骗子);
* negated: a negator right before it (single-character negators such as 不 must touch the
  term; longer ones may sit up to ``negate_window`` characters before it, within the clause),
  a post-negator right after it (保本是不可能的), or it follows a negated match in the same
  clause (我不会去监管那边投诉的);
* reported speech: inside quotation marks (「」“”"…) or after a quotation cue (您说, 客户说 …)
  within ``quote_window`` characters in the same sentence;
* for Latin terms (sb, tmd): glued to other letters or digits (USB is not sb);
* for ``standalone=yes`` terms (啊): not a clause on its own.

Matching by sound (``@fuzzy`` directive, ``fuzzy=`` field of a term): the ASR writes words it
misheard as homophones (工号 → 公号, 功耗) or near-homophones (工号 → 工后). A lexicon whose
``@fuzzy`` is ``homophone`` also matches any text with the same toneless pinyin as an entry;
``near`` also allows ONE syllable that differs (see :mod:`qa_platform.phonetic`): for an entry of
2 or 3 syllables only a near-homophone (模糊音: zh/z, n/l, ang/an, ou/ao …), for 4 syllables one
sharing its initial or final, for 5 or more any one syllable. (Looser allowances matched
ordinary talk: 保单回访 ~ 保单号, 证件到 ~ 证件号, 院挂号 ~ 员工号, 我的宝贝 ~ 我的保单.) Entries of one
character, or with anything but Chinese characters, match only as written. An entry opts out with ``fuzzy=no`` (or
chooses its own level). The default is ``none``: matching by sound is opt-in per lexicon, and
phrase lists whose words have everyday homophones (abuse: 妈的 ~ 码的) stay at ``homophone``
with their risky entries opted out. A match by sound goes through the same exception, negation
and quotation checks and reports the original words it covers; ``LexiconMatch.via`` says how it
matched (``exact``, ``homophone``, ``near``). Exceptions of a lexicon that matches by sound are
also matched by homophone.
"""

from qa_platform.lexicon.files import lexicon_dir, load_lexicon, parse_lexicon
from qa_platform.lexicon.matching import FUZZY_LEVELS, Lexicon, LexiconError, LexiconMatch, Term

__all__ = [
    "FUZZY_LEVELS",
    "Lexicon",
    "LexiconError",
    "LexiconMatch",
    "Term",
    "lexicon_dir",
    "load_lexicon",
    "parse_lexicon",
]
