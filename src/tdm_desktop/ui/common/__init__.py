"""What every feature of the window shares: background jobs, the file watcher, image decoding."""
