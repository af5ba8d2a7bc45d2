"""Exchange formats: exports of sections, findings and annotations to other tools (glTF, BCF)."""
