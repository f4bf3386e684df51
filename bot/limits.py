"""Limits that channels, handoff and the console must agree on (one number, one place)."""

# The longest message hotro takes from a customer (REST, widget, Messenger, Zalo) or sends
# from an agent in the console. Messenger and Zalo cap a sent text at 2,000 themselves
# (bot/channels/buttons.py splits longer ones).
MAX_MESSAGE_CHARS = 4000

# How fast one customer may send (every channel, per sender, bot/channels/rate_limit.py):
# a burst of this many messages at once (a customer pasting several lines, the widget
# resending after a reconnect), then one more every 60 / SENDER_PER_MINUTE seconds. A
# person typing stays far below it; a script flooding one conversation is cut off before
# it takes the NLU's time from every other customer.
SENDER_BURST = 20
SENDER_PER_MINUTE = 60
