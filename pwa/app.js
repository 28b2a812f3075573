// Homeward client: see issue 5 for the offline shell.
