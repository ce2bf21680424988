"""The Qt user interface: main window, thumbnail grid (model, view, delegate, loader), jobs.

Only this package imports PySide6; it calls the Qt-free service layer in ``tdm_desktop.core``.
"""
