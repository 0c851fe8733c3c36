"""Plain domain types and rules: no framework imports here."""
