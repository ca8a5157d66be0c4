"""Treasury: reading bank statement files into `engine.bank` values (DOMAIN.md rules 10–13, issue 16)."""
