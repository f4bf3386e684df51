"""Limits that channels, handoff and the console must agree on (one number, one place)."""

# The longest message hotro takes from a customer (REST, widget, Messenger, Zalo) or sends
# from an agent in the console. Messenger and Zalo cap a sent text at 2,000 themselves
# (bot/channels/buttons.py splits longer ones).
MAX_MESSAGE_CHARS = 4000
