"""Rituals: scheduling, reminders and facilitator rotation (built on the command core)."""
