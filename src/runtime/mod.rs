//! Owns compiled code and buffers; checks every shape and label before native code runs.
