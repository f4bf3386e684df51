"""Human handoff: when to hand over, how to reach a person, tickets and transcripts."""
