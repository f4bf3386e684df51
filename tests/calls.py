"""Counting how often functions run on one text, whatever name a module imported them under."""
from __future__ import annotations

import sys
from collections import Counter
from typing import Callable, Collection, Sequence


def count_calls(functions: Sequence[Callable], texts: Collection[str], action: Callable[[], object]) -> Counter:
    """{function name: calls whose `text` argument is one of `texts`} while `action` runs."""
    names = {f.__code__: f.__name__ for f in functions}
    calls: Counter = Counter()

    def profile(frame, event, arg):
        if event == "call" and frame.f_code in names and frame.f_locals.get("text") in texts:
            calls[names[frame.f_code]] += 1

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls
