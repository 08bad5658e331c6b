"""Site camera images: detector annotations in, per-image safety fields and site aggregates out."""
