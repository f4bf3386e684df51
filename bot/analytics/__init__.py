"""Support metrics computed from Rasa's event stream (its event broker).

- `events`: reading the events Rasa's SQL event broker wrote (table `events`);
- `conversations`: the facts of each conversation (channel, handoffs, FAQ outcomes, response
  times, survey and rating), from the events alone;
- `office_time`: how much of a stretch of time the shop was open;
- `metrics`: the aggregation, per channel and per day over a date range, with the trend
  against the previous period of equal length;
- `table`: the metrics as one plain-text table (`hotro report`);
- `export`: one row per conversation (the console's CSV export).

The definitions are written in the README, "Support metrics".
"""
