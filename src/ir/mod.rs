//! The intermediate representation: a petgraph graph of tensor operations with static,
//! symbolic shapes. Imports nothing of nnc but `diag` (for spans).

mod bind;
mod call;
mod dim;
mod dot;
mod emit_nn;
mod graph;
mod op;
mod print;
mod shape;
mod unary_table;
mod verify;

pub use bind::{bind_sizes, BindError, Binder};
pub use call::CallError;
pub use dim::{Bindings, Dim, DimError};
pub use dot::to_dot;
pub use emit_nn::{to_nn, EmitError};
pub use graph::{Graph, Init, InputDecl, Node, NodeId, Origin, ParamDecl, Phase};
pub use op::{Binary, DType, Op, Reduce, ShapeError, TensorType, Unary, F64};
pub use print::print;
pub use shape::{broadcast, broadcasts_to, Shape};
pub(crate) use unary_table::unary_ops;
pub use verify::{verify, Expect, VerifyError};
