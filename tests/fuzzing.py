"""Hostile inputs shared by the fuzz tests of the webhooks and the widget's socket
(hypothesis; derandomized: the same examples every run)."""
from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings, strategies as st

EXAMPLES = 1000
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                         derandomize=True, phases=(Phase.explicit, Phase.generate, Phase.shrink),
                         suppress_health_check=list(HealthCheck))

NASTY_STRINGS = [
    "", " ", "\x00", "\u200b\u200b", "\ufeff", "\u202eabc", "🙏" * 50, "Ω≈ç√∫", "đơn hàng",
    "' OR 1=1; DROP TABLE zalo_seen; --", "<script>alert(1)</script>", "${FB_APP_SECRET}",
    "/restart", "/request_human", "/request_human{\"x\":", "/greet{\"language\": [1,2]}",
    "{{7*7}}", "%s%s%s%n", "../../etc/passwd", "\\u0000", "null", "1", "-1", "9" * 400,
    "a" * 5000, "đ" * 4100, "\n" * 100, "x\r\nX-Injected: 1",
]
hostile_text = st.one_of(st.sampled_from(NASTY_STRINGS), st.text(max_size=60),
                         st.text(alphabet=st.characters(blacklist_categories=()), max_size=30))
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), hostile_text)
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)),
    max_leaves=12)
