"""Rasa's check of the action server's reply, with the reply schema compiled once.

Rasa 3.6 (`RemoteAction._validate_action_result`) checks every reply of the action server
with `jsonschema.validate`, which first validates the schema itself against its
meta-schema: py-spy put a third of the Rasa server's CPU per FAQ turn there (bench/load.md).
The same reply schema is checked here by a validator built once, with the same error.
The Rasa server imports this module through bot.nlg, which endpoints.yml always loads.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict

import jsonschema
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def reply_validator() -> jsonschema.protocols.Validator:
    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    error = jsonschema.exceptions.best_match(reply_validator().iter_errors(result))
    if error is not None:
        # Rasa's own wording (RemoteAction._validate_action_result).
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions")
        raise error
    return True


RemoteAction._validate_action_result = _validate_action_result
