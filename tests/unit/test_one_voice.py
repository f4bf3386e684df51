"""Every sentence the bot says to a customer is written in domain.yml: no Vietnamese
sentence is left in bot/ or actions/ code, but where the text is data, not a reply."""
from __future__ import annotations

import ast
import re

from bot.settings import PROJECT_DIR

VIETNAMESE = re.compile("[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.I)
# Text that is data, not something the bot says to a customer.
NOT_REPLIES = {
    "bot/text": "abbreviations and word lists of the language detector",
    "bot/kb/calibration.py": "simulated customer messages the decision is calibrated on",
    "bot/kb/index.py": "sentences that measure the embedder's similarity scale",
    "bot/kb/spreadsheet.py": "why an FAQ workbook cannot be imported, for the shop's editor",
    "bot/console": "the agents' console (its users are the shop's staff)",
    "bot/shop.py": "field errors the admin sees when editing the shop settings in the console",
    "bot/analytics": "support metrics for the shop's leads (`hotro report`)",
    "bot/cli.py": "an example request in the command's help",
}


def vietnamese_sentences(path):
    """String constants (not docstrings) of three or more words with Vietnamese letters."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and VIETNAMESE.search(node.value) and len(node.value.split()) >= 3]


def test_no_customer_facing_sentence_outside_domain_yml():
    found = []
    for path in sorted([*PROJECT_DIR.glob("bot/**/*.py"), *PROJECT_DIR.glob("actions/**/*.py")]):
        relative = path.relative_to(PROJECT_DIR).as_posix()
        if any(relative == allowed or relative.startswith(allowed + "/") for allowed in NOT_REPLIES):
            continue
        found += [f"{relative}:{line}: {text[:60]!r}" for line, text in vietnamese_sentences(path)]
    assert found == [], "customer-facing text belongs in domain.yml:\n" + "\n".join(found)
