"""The action server's reply is checked as Rasa checks it, with the schema compiled once."""
from __future__ import annotations

from unittest import mock

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

import bot.nlg  # noqa: F401  (what the Rasa server imports)
from bot.action_schema import reply_validator


def action() -> RemoteAction:
    return RemoteAction("action_answer_faq", None)


def test_a_valid_reply_passes_and_the_schema_is_not_checked_again():
    reply_validator()
    reply = {"events": [{"event": "slot", "name": "language", "value": "vi"}],
             "responses": [{"response": "utter_faq_answer", "text": "Phí ship 20.000đ"}]}
    with mock.patch.object(jsonschema.validators.Draft202012Validator, "check_schema") as check, \
            mock.patch.object(jsonschema.validators.Draft7Validator, "check_schema") as check7:
        assert action()._validate_action_result(reply) is True
        assert action()._validate_action_result({"events": [], "responses": []}) is True
    check.assert_not_called()
    check7.assert_not_called()


@pytest.mark.parametrize("reply", [
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [], "responses": ["not an object"]},
])
def test_a_malformed_reply_is_refused_with_rasas_message(reply):
    with pytest.raises(jsonschema.ValidationError) as refused:
        action()._validate_action_result(reply)
    assert "Failed to validate Action server response" in refused.value.message
    with pytest.raises(jsonschema.ValidationError):  # as Rasa's own check would
        jsonschema.validate(reply, RemoteAction.action_response_format_spec())
