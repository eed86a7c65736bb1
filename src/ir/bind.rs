//! Binding size variables to numbers from the shapes of concrete tensors.

use super::dim::{Bindings, Dim, DimError};
use super::graph::Graph;
use super::shape::Shape;
use std::fmt;
use std::sync::Arc;

/// Why concrete shapes do not fit a graph's declarations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindError {
    /// A tensor has the wrong rank or a literal dimension differs.
    Shape {
        /// the tensor's name
        name: String,
        /// declared (symbolic) shape
        expected: Shape,
        /// found shape
        found: Vec<usize>,
    },
    /// One size variable got two different values.
    Conflict {
        /// the variable
        var: Arc<str>,
        /// the first value and where it came from
        first: (usize, String),
        /// the second value and where it came from
        second: (usize, String),
    },
    /// A size variable no tensor determines.
    Unbound(Arc<str>),
    /// A shape whose element count overflows.
    Overflow(String),
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BindError::Shape { name, expected, found } => {
                write!(f, "tensor `{name}` has shape {found:?}, expected {expected}")
            }
            BindError::Conflict { var, first, second } => write!(
                f,
                "size variable {var} is {} from `{}` but {} from `{}`",
                first.0, first.1, second.0, second.1
            ),
            BindError::Unbound(v) => write!(f, "size variable {v} is not determined by any given tensor"),
            BindError::Overflow(name) => write!(f, "tensor `{name}` is too large (element count overflows)"),
        }
    }
}

impl std::error::Error for BindError {}

/// Collects values of size variables from named tensors' concrete shapes.
#[derive(Default)]
pub struct Binder {
    bindings: Bindings,
    source: std::collections::BTreeMap<Arc<str>, String>,
}

impl Binder {
    /// An empty binder.
    pub fn new() -> Binder {
        Binder::default()
    }

    /// Starts from known values (e.g. from a previous instantiation).
    pub fn with(bindings: Bindings) -> Binder {
        let source = bindings
            .keys()
            .map(|k| (k.clone(), "given sizes".to_string()))
            .collect();
        Binder { bindings, source }
    }

    /// The values bound so far.
    pub fn bindings(&self) -> &Bindings {
        &self.bindings
    }

    /// Matches `found` against the declared `expected` shape of tensor `name`.
    /// Only dimensions that are a single size variable bind it; other symbolic dimensions
    /// (products such as `2*N`) are checked once everything is bound.
    pub fn bind(&mut self, name: &str, expected: &Shape, found: &[usize]) -> Result<(), BindError> {
        let mismatch = || BindError::Shape {
            name: name.to_string(),
            expected: expected.clone(),
            found: found.to_vec(),
        };
        if expected.rank() != found.len() {
            return Err(mismatch());
        }
        for (d, &n) in expected.dims().iter().zip(found) {
            if let Some(v) = single_var(d) {
                match self.bindings.get(&v) {
                    Some(&old) if old != n => {
                        return Err(BindError::Conflict {
                            var: v.clone(),
                            first: (old, self.source[&v].clone()),
                            second: (n, name.to_string()),
                        })
                    }
                    Some(_) => {}
                    None => {
                        self.bindings.insert(v.clone(), n);
                        self.source.insert(v, name.to_string());
                    }
                }
            } else if let Some(lit) = d.as_lit() {
                if lit as usize != n || lit > usize::MAX as u64 {
                    return Err(mismatch());
                }
            }
        }
        Ok(())
    }

    /// Checks every declared shape against the bindings and returns them. `tensors` lists
    /// `(name, declared, found)` again so that product dimensions are verified.
    pub fn finish<'a>(
        self,
        graph: &Graph,
        tensors: impl IntoIterator<Item = (&'a str, &'a Shape, &'a [usize])>,
    ) -> Result<Bindings, BindError> {
        for v in graph.size_vars() {
            if !self.bindings.contains_key(&v) {
                return Err(BindError::Unbound(v));
            }
        }
        for (name, expected, found) in tensors {
            let dims = expected.eval(&self.bindings).map_err(|e| match e {
                DimError::Unbound(v) => BindError::Unbound(v),
                DimError::Overflow => BindError::Overflow(name.to_string()),
            })?;
            if dims != found {
                return Err(BindError::Shape {
                    name: name.to_string(),
                    expected: expected.clone(),
                    found: found.to_vec(),
                });
            }
        }
        Ok(self.bindings)
    }
}

fn single_var(d: &Dim) -> Option<Arc<str>> {
    let vars: Vec<&Arc<str>> = d.vars().collect();
    (vars.len() == 1 && d == &Dim::var(vars[0])).then(|| vars[0].clone())
}

/// Binds the size variables of `graph` from the concrete shapes of its inputs (in
/// declaration order) and, when given, of its params.
pub fn bind_sizes(graph: &Graph, inputs: &[&[usize]], params: Option<&[&[usize]]>) -> Result<Bindings, BindError> {
    let mut all: Vec<(&str, &Shape, &[usize])> = Vec::new();
    for (decl, s) in graph.inputs.iter().zip(inputs) {
        all.push((&decl.name, &decl.ty.shape, s));
    }
    if let Some(ps) = params {
        for (decl, s) in graph.params.iter().zip(ps) {
            all.push((&decl.name, &decl.shape, s));
        }
    }
    let mut binder = Binder::new();
    for (name, expected, found) in &all {
        binder.bind(name, expected, found)?;
    }
    binder.finish(graph, all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{DType, Init, TensorType};

    fn graph() -> Graph {
        let mut g = Graph::new();
        g.add_input("x", TensorType::f32(Shape(vec![Dim::var("N"), Dim::lit(4)])), None);
        g.add_input(
            "y",
            TensorType {
                dtype: DType::I32,
                shape: Shape(vec![Dim::var("N")]),
            },
            None,
        );
        g.add_param("W", Shape::lit(&[4, 2]), Init::Const(0.0), None);
        g
    }

    #[test]
    fn binds_from_inputs_and_reports_conflicts_by_name() {
        let g = graph();
        let b = bind_sizes(&g, &[&[3, 4], &[3]], None).unwrap();
        assert_eq!(b[&Arc::from("N")], 3);
        match bind_sizes(&g, &[&[3, 4], &[5]], None) {
            Err(BindError::Conflict { var, first, second }) => {
                assert_eq!((&*var, first.0, second.0, second.1.as_str()), ("N", 3, 5, "y"));
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert!(matches!(
            bind_sizes(&g, &[&[3, 5], &[3]], None),
            Err(BindError::Shape { .. })
        ));
        assert!(matches!(
            bind_sizes(&g, &[&[3, 4], &[3]], Some(&[&[4, 3]])),
            Err(BindError::Shape { .. })
        ));
    }
}
