"""Recordings on disk in the BOP scene layout, their trajectories and their synthesis."""
