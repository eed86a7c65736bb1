//! Name resolution, `fn` inlining, type and shape checking, and lowering to IR.
