"""copbot's storage: tables, the async database and its migrations."""
