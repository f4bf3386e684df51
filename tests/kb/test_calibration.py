"""The calibrated decision's features and cuts (bot/kb/calibration.py), without an embedder."""
from __future__ import annotations

import numpy as np
import pytest

from bot.kb.calibration import (FEATURES, TRAFFIC, DecisionModel, Simulation, answer_cut, decision_features,
                                decision_policy, fit_simulation)


def test_features_count_the_entries_close_to_the_top():
    score = np.array([0.50, 0.80, 0.75, 0.20, 0.73])
    dense = np.array([0.10, 0.60, 0.40, 0.30, 0.20])
    f = dict(zip(FEATURES, decision_features(score, dense, np.zeros(5))))
    assert f["score"] == pytest.approx(0.80)
    assert f["margin"] == pytest.approx(0.05)
    assert f["close"] == 2  # 0.75 and 0.73 are within 10 % of 0.80; 0.50 is not
    assert f["dense_margin"] == pytest.approx(0.20)
    assert decision_features(np.array([0.9]), np.array([0.9]), np.zeros(1))[2] == 0
    assert decision_features(np.zeros(3), np.zeros(3), np.zeros(3))[2] == 0  # nothing scored: no crowd
    assert len(decision_features(np.zeros(0), np.zeros(0), np.zeros(0))) == len(FEATURES)


def _traffic(n_right=80, n_miss=20, n_left=100, n_off=50):
    kinds = np.array(["asked"] * n_right + ["miss"] * n_miss + ["left_out"] * n_left + ["off_topic"] * n_off)
    y = (kinds == "asked").astype(float)
    return kinds, y


def _wrong_share(answered, y, kinds):
    group = np.where(np.isin(kinds, ("asked", "miss")), "answerable", kinds)
    weight = np.array([TRAFFIC[g] / (group == g).sum() for g in group])
    return float(weight[answered & (y == 0)].sum())


def test_the_answer_cut_is_the_lowest_that_holds_the_wrong_share_of_the_traffic():
    kinds, y = _traffic()
    rng = np.random.default_rng(0)
    p = np.where(y == 1, rng.uniform(0.3, 1.0, len(y)), rng.uniform(0.0, 0.7, len(y)))
    cuts = []
    for limit in (0.01, 0.035, 0.1):
        cut = answer_cut(p, y, kinds, limit, 1.0)
        assert _wrong_share(p >= cut, y, kinds) <= limit + 1e-9
        lower = p[p < cut]
        assert _wrong_share(p >= lower.max(), y, kinds) > limit  # one level lower breaks it
        cuts.append(cut)
    assert cuts == sorted(cuts, reverse=True)  # a looser policy answers more


def test_the_answer_cut_also_caps_off_topic_answers():
    kinds, y = _traffic(n_right=50, n_miss=0, n_left=0, n_off=20)
    p = np.r_[np.linspace(0.5, 1.0, 50), np.linspace(0.0, 0.95, 20)]
    cut = answer_cut(p, y, kinds, 1.0, 0.05)  # the share limit does not bind, the off-topic one does
    assert ((p >= cut) & (kinds == "off_topic")).sum() <= 1
    nothing = answer_cut(np.array([0.9, 0.8]), np.array([0.0, 0.0]), np.array(["left_out", "off_topic"]), 0.0, 0.0)
    assert nothing > 0.9  # every candidate would be wrong: answer nothing


def test_fit_simulation_answers_confident_tops_and_keeps_its_policy():
    rng = np.random.default_rng(1)
    n = 300
    right = rng.random(n) < 0.5
    x = np.c_[np.where(right, rng.uniform(0.5, 0.9, n), rng.uniform(0.2, 0.6, n)),
              np.where(right, rng.uniform(0.05, 0.3, n), rng.uniform(0.0, 0.08, n)),
              np.where(right, rng.integers(0, 2, n), rng.integers(0, 5, n)),
              np.where(right, rng.uniform(0.02, 0.2, n), rng.uniform(0.0, 0.05, n))]
    kinds = np.where(right, "asked", np.where(rng.random(n) < 0.5, "left_out", "off_topic"))
    sim = Simulation(x, right.astype(float), right.astype(float), kinds)
    model = fit_simulation(sim, max_answered_wrong=0.02)
    assert model.stats["max_answered_wrong"] == 0.02
    assert 0 < model.full.suggest_p <= model.full.answer_p < 1
    assert model.probability(np.array([0.85, 0.25, 0, 0.15])) > model.full.answer_p
    assert model.probability(np.array([0.3, 0.01, 4, 0.01])) < model.full.answer_p
    again = DecisionModel.from_dict(model.to_dict())
    assert again is not None and again.cuts() == model.cuts()
    assert DecisionModel.from_dict({**model.to_dict(), "version": 2}) is None  # an older index: rebuilt


def test_decision_policy_reads_hotro_yml():
    assert decision_policy({"decision": {"max_answered_wrong": 0.02}})["max_answered_wrong"] == 0.02
    assert set(decision_policy({})) == {"max_answered_wrong", "max_offtopic_answered", "max_offtopic_suggested"}
