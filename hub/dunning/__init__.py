"""Dunning: cases, lawful flows and fees, the daily cycle, actions and letters."""
