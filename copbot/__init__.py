"""The entry point: the command line and the composition root that builds copbot from settings."""
