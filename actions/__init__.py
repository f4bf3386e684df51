"""rasa-sdk custom actions. Thin: each reads the tracker, calls bot/, returns events."""
