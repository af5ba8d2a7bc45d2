"""What the routes call: sections, annotations, runs, attachments, tokens (no HTTP here)."""
