"""Services own copbot's rules and transactions; handlers call them, adapters never do."""
