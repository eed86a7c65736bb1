//! Reverse-mode differentiation by chain-rule rewriting of the IR.
