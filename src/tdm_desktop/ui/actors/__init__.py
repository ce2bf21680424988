"""The actor list, the open actor (open, reload, follow its files) and the header over the grid."""
