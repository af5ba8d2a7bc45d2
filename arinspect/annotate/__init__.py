"""Annotations made by a worker in the field: gesture anchoring and voice commands.

`gesture` ray casts taps, pointing rays and ink strokes on the section CAD so that a
finding lands on the right part; `voice` recognises short spoken commands ("mark
missing", "next part", ...) offline with PocketSphinx and rejects anything else.
"""
