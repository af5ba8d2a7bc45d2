"""Headless CPU renderer of sections (Open3D ray casting): colour, depth and part-id maps."""
