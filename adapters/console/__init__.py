"""The console adapter: a REPL over the same core and database as Slack and Teams."""
