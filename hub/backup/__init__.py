"""Encrypted backups of the store's books and files, and restoring them on a new box."""
