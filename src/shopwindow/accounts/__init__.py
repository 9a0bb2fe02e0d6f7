"""Accounts, sign-in sessions, OAuth 2 clients and tokens, profiles."""
