"""The full-size preview (Space/Enter): the dialog and its presenter."""
