"""Text only: questions, review prompts and templates, read through `prompts.loader`."""
