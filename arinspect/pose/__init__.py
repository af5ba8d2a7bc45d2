"""Camera pose against the section: marker detection, PnP, CAD refinement, tracking."""
