"""File → Export good set…: the dialog, the background export, its progress and summary."""
