"""hotro: a Vietnamese-first customer-support chatbot on Rasa."""
