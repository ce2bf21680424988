"""The thumbnail grid: model, flag filter, view, delegate, selection and the view controls."""
