"""Data-quality checkers and the weekly reminders built on them."""
