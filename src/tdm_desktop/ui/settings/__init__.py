"""Settings… (Ctrl+,): the settings model (load/save in QSettings), the dialog and its presenter."""
