"""The service layer shared by the window, the command line and the tests. Never imports Qt."""
