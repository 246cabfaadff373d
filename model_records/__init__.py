"""The NLU model in service and the records beside it (see `files`)."""
