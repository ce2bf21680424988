"""Flag, delete and Delete All: the controller, its undo commands, the presenter and dialogs."""
