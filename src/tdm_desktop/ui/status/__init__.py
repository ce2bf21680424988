"""What the window says about itself: the error banner, the status bar labels and the log dock."""
