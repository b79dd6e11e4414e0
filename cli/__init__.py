"""The typer command-line application: thin commands over model/, stream/ and training/."""
