"""Test doubles of the systems the hub talks to (fake accounting APIs)."""
