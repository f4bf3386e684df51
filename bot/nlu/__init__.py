"""Rasa graph components: Vietnamese tokenizer, language detector, embedding featurizer."""
