"""Profiling tiers (Nsight Compute, timeline, static), the roofline and the one-line diagnosis."""
