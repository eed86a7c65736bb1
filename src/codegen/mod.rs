//! IR to native code with Cranelift. The only module that imports cranelift-*.
