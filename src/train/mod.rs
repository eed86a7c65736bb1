//! Training: optimisers expressed as IR, data sets, the loop, checkpoints.
