"""UI state without widgets: views take these and listen to them."""
