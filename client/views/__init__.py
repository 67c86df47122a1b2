"""Windows, dialogs and widgets. Views call the server only through jobs, never directly."""
