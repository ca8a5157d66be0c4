"""The treasury's file formats: bank statements in, SEPA transfers out (DOMAIN.md rules 10–13, issue 16)."""
