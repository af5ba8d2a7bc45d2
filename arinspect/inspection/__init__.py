"""Inspection: compare what the camera sees with what the CAD says, part by part.

Per frame: the expected view (`expected`), detections matched to expected parts
(`matching`) and per-part evidence (`evidence`); over the recording: fused decisions
(`fusion`) and unexpected detections (`unexpected`); `pipeline` runs it all and
`report` writes report.json and the HTML report.
"""
