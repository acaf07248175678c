"""One self-contained subproject per paper; see WORKSPACE.md."""
