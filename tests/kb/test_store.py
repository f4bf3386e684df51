"""The FAQ store (bot/kb/store.py): versions, history and diff, restore, delete, conflicts
between editors, validation by field, publishing and seeding."""
from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from bot.kb.corpus import MAX_ANSWER_CHARS, load_corpus
from bot.kb.store import EntryConflict, EntryInvalid, FaqStore


@pytest.fixture
def store(tmp_path, corpus_dir):
    store = FaqStore(f"sqlite:///{tmp_path / 'hotro.db'}")
    assert store.seed(load_corpus(corpus_dir), str(corpus_dir))
    return store


def edited(store, entry_id, **changes):
    return replace(store.current(entry_id).entry, **changes)


def test_seeding_imports_and_publishes_the_corpus_once(store, corpus_dir):
    pub, entries = store.published_entries()
    assert sorted(e.id for e in entries) == ["orders-cancel", "orders-track", "payment-methods",
                                             "payment-vat-invoice"]
    assert pub.entries == 4 and pub.author == "seed"
    assert not store.seed(load_corpus(corpus_dir), "again")  # already seeded: nothing doubled
    assert len(store.history("orders-track")) == 1


def test_two_processes_seeding_an_empty_store_seed_it_once(tmp_path, corpus_dir):
    url = f"sqlite:///{tmp_path / 'race.db'}"
    entries = load_corpus(corpus_dir)
    results, barrier = [], threading.Barrier(2)

    def seed():
        barrier.wait()
        results.append(FaqStore(url).seed(entries, "x"))

    threads = [threading.Thread(target=seed) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results) == [False, True]
    assert len(FaqStore(url).entries()) == 4 and len(FaqStore(url).history("orders-cancel")) == 1


def test_every_save_is_a_version_with_who_when_and_what_changed(store):
    saved = store.save(edited(store, "orders-track", answer_vi="Mở mục Đơn hàng của tôi."), "lan", 1)
    again = store.save(edited(store, "orders-track", tags=["orders"], phrasings=["đơn của tôi đâu"] * 1),
                       "minh", 2, note="fewer tags")
    assert (saved.version, saved.author, saved.changed) == (2, "lan", ["answer_vi"])
    assert again.version == 3 and again.changed == ["phrasings", "tags"] and again.note == "fewer tags"
    assert again.seq > saved.seq  # the store version grows with every save
    history = store.history("orders-track")
    assert [(h.version, h.author) for h in history] == [(3, "minh"), (2, "lan"), (1, "seed")]
    assert all(h.saved_at is not None for h in history)
    diff = store.diff("orders-track", 1, 2)
    assert list(diff) == ["answer_vi"]
    assert diff["answer_vi"]["after"] == "Mở mục Đơn hàng của tôi."
    assert diff["answer_vi"]["before"].startswith("Bạn vào mục Đơn hàng")


def test_restore_makes_an_old_version_the_newest_without_losing_any(store):
    original = store.current("orders-track").entry.answer_vi
    store.save(edited(store, "orders-track", answer_vi="Sai rồi."), "lan", 1)
    restored = store.restore("orders-track", 1, "minh")
    assert restored.version == 3 and restored.note == "restored version 1"
    assert store.current("orders-track").entry.answer_vi == original
    assert [h.entry.answer_vi for h in store.history("orders-track")][1] == "Sai rồi."  # still there


def test_delete_is_a_version_and_can_be_restored(store):
    gone = store.delete("orders-cancel", "lan", 1)
    assert gone.deleted and gone.version == 2
    assert "orders-cancel" not in [e.id for e in store.entries()]
    with pytest.raises(KeyError):
        store.delete("orders-cancel", "lan", 2)  # already deleted
    back = store.restore("orders-cancel", 1, "minh")
    assert not back.deleted and back.version == 3 and "restored" in back.changed
    assert "orders-cancel" in [e.id for e in store.entries()]


def test_two_editors_save_the_same_entry_one_wins_the_other_sees_the_change(store):
    base = store.current("payment-methods")
    lan = replace(base.entry, answer_vi="Shop nhận COD và chuyển khoản.")
    minh = replace(base.entry, answer_en="We take cash on delivery and bank transfer.")
    store.save(lan, "lan", base.version)
    with pytest.raises(EntryConflict) as refused:
        store.save(minh, "minh", base.version)
    conflict = refused.value
    # the loser is shown the other change: who, which version, what it changed
    assert conflict.current.author == "lan" and conflict.current.version == 2
    assert list(conflict.changes) == ["answer_vi"]
    assert conflict.changes["answer_vi"]["after"] == "Shop nhận COD và chuyển khoản."
    assert conflict.to_dict()["current"]["entry"]["answer_vi"] == "Shop nhận COD và chuyển khoản."
    # nothing was overwritten; the loser merges and saves on top of the winner
    assert store.current("payment-methods").entry.answer_vi == "Shop nhận COD và chuyển khoản."
    merged = replace(conflict.current.entry, answer_en=minh.answer_en)
    store.save(merged, "minh", conflict.current.version)
    now = store.current("payment-methods").entry
    assert (now.answer_vi, now.answer_en) == (lan.answer_vi, minh.answer_en)


def test_simultaneous_saves_from_the_same_version_one_conflicts(store):
    base = store.current("orders-cancel")
    outcomes, barrier = [], threading.Barrier(4)

    def save(name):
        barrier.wait()
        try:
            store.save(replace(base.entry, answer_vi=f"Trả lời của {name}."), name, base.version)
            outcomes.append(("saved", name))
        except EntryConflict as exc:
            outcomes.append(("conflict", exc.current.author))

    threads = [threading.Thread(target=save, args=(n,)) for n in ("an", "binh", "chi", "dung")]
    [t.start() for t in threads]
    [t.join() for t in threads]
    winners = [n for kind, n in outcomes if kind == "saved"]
    assert len(winners) == 1, outcomes
    assert all(n == winners[0] for kind, n in outcomes if kind == "conflict")  # told who won
    assert [h.version for h in store.history("orders-cancel")] == [2, 1]


def test_a_new_entry_whose_id_exists_is_a_conflict(store):
    with pytest.raises(EntryConflict):
        store.save(edited(store, "orders-track", question="Một câu khác?"), "lan", 0)


def test_validation_is_the_corpus_check_with_field_level_messages(store):
    bad = edited(store, "orders-track", answer_vi=" ", phrasings=["huy don hang nhu the nao", "a", "b", "c"])
    with pytest.raises(EntryInvalid) as refused:
        store.save(bad, "lan", 1)
    fields = refused.value.fields
    assert "empty answer" in " ".join(fields["answer_vi"])
    assert "also used by entry 'orders-cancel'" in " ".join(fields["phrasings.0"])  # as `kb validate` says
    assert store.current("orders-track").version == 1  # nothing saved

    with pytest.raises(EntryInvalid) as too_long:
        store.save(edited(store, "orders-track", answer_en="x" * (MAX_ANSWER_CHARS + 1)), "lan", 1)
    assert "at most 2000" in " ".join(too_long.value.fields["answer_en"])
    with pytest.raises(EntryInvalid) as topic:
        store.save(edited(store, "orders-track", topic="Đơn hàng"), "lan", 1)
    assert list(topic.value.fields) == ["topic"]
    with pytest.raises(EntryInvalid) as bad_id:
        store.save(replace(store.current("orders-track").entry, id="Không hợp lệ"), "lan", 0)
    assert list(bad_id.value.fields) == ["id"]


def test_advice_does_not_stop_a_save(store):
    entry = replace(store.current("orders-track").entry, id="orders-new", question="Đơn mới đặt sửa được không?",
                    phrasings=[], answer_en=None)
    assert store.save(entry, "lan", 0).version == 1


def test_publishing_serves_the_store_as_it_was(store):
    before, _ = store.published_entries()
    store.save(edited(store, "orders-track", answer_vi="Bản nháp."), "lan", 1)
    pub, entries = store.published_entries()
    assert pub == before and store.unpublished() == 1  # a save alone changes nothing customers see
    assert next(e for e in entries if e.id == "orders-track").answer_vi != "Bản nháp."
    new = store.publish("lan")
    assert new.version == store.head() and store.unpublished() == 0
    assert next(e for e in store.published_entries()[1] if e.id == "orders-track").answer_vi == "Bản nháp."


def test_publishing_an_empty_faq_is_refused(tmp_path):
    with pytest.raises(EntryInvalid):
        FaqStore(f"sqlite:///{tmp_path / 'empty.db'}").publish("lan")


def test_import_saves_only_what_changed_and_deletes_what_is_gone(store):
    entries = store.entries()
    changed = [replace(e, answer_vi="Đổi.") if e.id == "orders-track" else e
               for e in entries if e.id != "payment-vat-invoice"]
    result = store.import_entries(changed, "import")
    assert result == {"added": [], "changed": ["orders-track"], "removed": ["payment-vat-invoice"],
                      "unchanged": ["orders-cancel", "payment-methods"]}
    assert store.history("payment-vat-invoice")[0].deleted  # restorable
    assert store.import_entries(changed, "import")["changed"] == []
