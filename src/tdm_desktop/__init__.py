"""Training Data Manager: curate AI-actor training images that live only in S3."""

__version__ = "0.1.0"
