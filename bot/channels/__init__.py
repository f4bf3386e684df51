"""Rasa input/output channels: checked REST, web widget, Messenger, Zalo OA."""
