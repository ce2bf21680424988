"""The compare view (C with 2–4 images selected) and the panes the preview draws with too."""
