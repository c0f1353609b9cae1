"""Sanad's tests."""
