"""Double-entry ledger: accounts, append-only journal entries, commission lifecycle."""
