"""Test doubles for the outside world (see design §7): fakes, not monkeypatches."""
