"""The review: unreviewed / good / bad and its progress, where the current image goes after a
decision, near-duplicates and quality problems found from the thumbnails' bytes, filters and sorts."""
