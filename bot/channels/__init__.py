"""Rasa input/output channels: checked REST, web widget, Messenger, Zalo OA; their shared
state in hotro's database (state.py)."""
