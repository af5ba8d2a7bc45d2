"""CAD side of arinspect: the section model, the part catalog and the section generator."""
