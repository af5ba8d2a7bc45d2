"""arinspect_server: the annotation sync service of arinspect (FastAPI, SQLAlchemy 2).

It stores sections, inspection runs, findings, annotations, comments, attachments,
users, tokens and an append-only audit log, and streams every accepted change to the
headsets and QA desks of a section in per-section sequence order. It imports
`arinspect`, never the reverse. Start it with ``arinspect serve``; build the ASGI app
with `arinspect_server.app.create_app`.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
