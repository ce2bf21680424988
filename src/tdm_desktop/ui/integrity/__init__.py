"""Check against S3… and Migrate…: the audit, its fixes and the migration of sync-era manifests
in the window, and the actor list's marks."""
