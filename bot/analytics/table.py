"""The support metrics as one plain-text table (`hotro report`): one row per metric, one
column per channel (or per day), then the whole period, the previous one and the change."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from bot.analytics.metrics import REASONS

COUNT, RATE, SECONDS, DISTRIBUTION = "count", "rate", "seconds", "distribution"

ROWS: List[Tuple[str, str, str]] = [
    ("conversations", "Cuộc trò chuyện / Conversations", COUNT),
    ("containment_rate", "Bot tự giải quyết / Bot resolution rate", RATE),
    ("handoff_rate", "Chuyển nhân viên / Handoff rate", RATE),
    *[(f"handoff_rate_by_reason.{reason}", f"  lý do / reason {reason}", RATE)
      for reason in REASONS],
    ("faq_answered", "FAQ trả lời / FAQ answered", COUNT),
    ("faq_suggested", "FAQ gợi ý / FAQ suggested", COUNT),
    ("faq_picked", "  khách chọn gợi ý / suggestion picked", COUNT),
    ("faq_dont_know", "FAQ không biết / FAQ don't know", COUNT),
    ("failed_turn_rate", "Lượt bot không giúp được / Failed turns", RATE),
    ("bot_response_p50_s", "Bot trả lời p50 / Bot response p50", SECONDS),
    ("bot_response_p95_s", "Bot trả lời p95 / Bot response p95", SECONDS),
    ("first_human_response_median_s",
     "Nhân viên trả lời đầu / First human response (median)", SECONDS),
    ("first_human_response_office_median_s",
     "  trong giờ làm việc / in office hours", SECONDS),
    ("resolution_median_s", "Thời gian giải quyết / Resolution time (median)", SECONDS),
    ("csat", "CSAT (4–5 sao / stars)", RATE),
    ("ratings", "Số đánh giá / Ratings", COUNT),
    ("rating_distribution", "  1/2/3/4/5 sao / stars", DISTRIBUTION),
    ("survey_response_rate", "Tỉ lệ trả lời khảo sát / Survey response rate", RATE),
]


def _value(block: Dict[str, Any], key: str) -> Any:
    for part in key.split("."):
        block = block.get(part) if isinstance(block, dict) else None
    return block


def duration(seconds: float) -> str:
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    if seconds < 60:
        return f"{sign}{seconds:.1f} s"
    if seconds < 3600:
        return f"{sign}{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{sign}{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"


def _cell(value: Any, kind: str, change: bool = False) -> str:
    if value is None:
        return "–"
    if kind == DISTRIBUTION:
        return "/".join(_cell(value.get(str(r)), COUNT, change) for r in range(1, 6))
    plus = "+" if change and value > 0 else ""
    if kind == RATE:
        return f"{plus}{value * 100:.1f} pt" if change else f"{value * 100:.1f}%"
    if kind == SECONDS:
        return plus + duration(value)
    return f"{plus}{value}"


def render(result: Dict[str, Any], by: str = "channel") -> str:
    """`result` from metrics(); `by` "channel" or "day" chooses the first columns."""
    if by == "day":
        groups = [(row["date"], row) for row in result["by_day"]]
    else:
        groups = list(result["by_channel"].items())
    columns: List[Tuple[str, Dict[str, Any], Callable[[Any, str], str]]] = [
        (name, block, _cell) for name, block in groups]
    columns += [
        (f"{result['from']} → {result['to']}", result["totals"], _cell),
        (f"kỳ trước / previous {result['previous']['from']} → {result['previous']['to']}",
         result["previous"], _cell),
        ("thay đổi / change", result["trend"], lambda v, k: _cell(v, k, change=True)),
    ]
    header = ["chỉ số / metric"] + [name for name, _, _ in columns]
    lines = [header]
    for key, label, kind in ROWS:
        lines.append([label] + [fmt(_value(block, key), kind) for _, block, fmt in columns])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    title = (f"Chỉ số hỗ trợ / Support metrics {result['from']} → {result['to']}"
             f" ({result['timezone']}; kênh / channel: {result['channel'] or 'tất cả / all'})")
    rendered = [title, ""]
    for number, line in enumerate(lines):
        rendered.append(" | ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                                   for i, cell in enumerate(line)).rstrip())
        if number == 0:
            rendered.append("-+-".join("-" * w for w in widths))
    return "\n".join(rendered)
