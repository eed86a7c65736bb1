//! Tensor files (safetensors, MNIST IDX), atomic writes, param initialisation.
