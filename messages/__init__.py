"""User-facing messages: one Jinja2 template per message kind per surface."""
