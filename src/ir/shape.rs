//! Shapes: lists of symbolic dimensions, and the broadcasting rule.

use super::dim::{Bindings, Dim, DimError};
use std::fmt;

/// A tensor shape; `[]` is a scalar.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default, PartialOrd, Ord)]
pub struct Shape(pub Vec<Dim>);

impl Shape {
    /// The scalar shape `[]`.
    pub fn scalar() -> Shape {
        Shape(Vec::new())
    }

    /// A shape of literal dimensions.
    pub fn lit(dims: &[u64]) -> Shape {
        Shape(dims.iter().map(|&d| Dim::lit(d)).collect())
    }

    /// The number of axes.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// The dimensions.
    pub fn dims(&self) -> &[Dim] {
        &self.0
    }

    /// The element count, symbolically (`None` if a literal overflows).
    pub fn numel(&self) -> Option<Dim> {
        Dim::product(&self.0)
    }

    /// The concrete dimensions under `bindings`, with the element count checked for overflow.
    pub fn eval(&self, bindings: &Bindings) -> Result<Vec<usize>, DimError> {
        let dims = self.0.iter().map(|d| d.eval(bindings)).collect::<Result<Vec<_>, _>>()?;
        dims.iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or(DimError::Overflow)?;
        Ok(dims)
    }

    /// The shape with `axes` removed (`axes` sorted, in range).
    pub fn without_axes(&self, axes: &[usize]) -> Shape {
        Shape(
            self.0
                .iter()
                .enumerate()
                .filter(|(i, _)| !axes.contains(i))
                .map(|(_, d)| d.clone())
                .collect(),
        )
    }

    /// The shape with `axes` set to 1, as `keepdims=true` leaves them.
    pub fn with_axes_one(&self, axes: &[usize]) -> Shape {
        Shape(
            self.0
                .iter()
                .enumerate()
                .map(|(i, d)| if axes.contains(&i) { Dim::one() } else { d.clone() })
                .collect(),
        )
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{d}")?;
        }
        write!(f, "]")
    }
}

/// NumPy broadcasting: align on the right; a `1` or a missing axis stretches.
/// Returns the offending pair of dimensions (as written) when two differ.
pub fn broadcast(a: &Shape, b: &Shape) -> Result<Shape, (Dim, Dim)> {
    let rank = a.rank().max(b.rank());
    let mut out = Vec::with_capacity(rank);
    for i in 0..rank {
        let da = (i + a.rank()).checked_sub(rank).map(|k| &a.0[k]);
        let db = (i + b.rank()).checked_sub(rank).map(|k| &b.0[k]);
        let d = match (da, db) {
            (Some(x), None) | (None, Some(x)) => x.clone(),
            (Some(x), Some(y)) if x == y => x.clone(),
            (Some(x), Some(y)) if x.is_one() => y.clone(),
            (Some(x), Some(y)) if y.is_one() => x.clone(),
            (Some(x), Some(y)) => return Err((x.clone(), y.clone())),
            (None, None) => unreachable!("i < rank of at least one shape"),
        };
        out.push(d);
    }
    Ok(Shape(out))
}

/// Whether `from` broadcasts to exactly `to`.
pub fn broadcasts_to(from: &Shape, to: &Shape) -> bool {
    from.rank() <= to.rank() && broadcast(from, to).as_ref() == Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        let n = Dim::var("N");
        let a = Shape(vec![n.clone(), Dim::lit(3)]);
        assert_eq!(broadcast(&a, &Shape::lit(&[3])).unwrap(), a);
        assert_eq!(
            broadcast(&Shape::lit(&[4, 1]), &Shape::lit(&[3])).unwrap(),
            Shape::lit(&[4, 3])
        );
        assert_eq!(broadcast(&Shape::scalar(), &a).unwrap(), a);
        let err = broadcast(&a, &Shape::lit(&[4])).unwrap_err();
        assert_eq!((err.0.to_string(), err.1.to_string()), ("3".into(), "4".into()));
        assert!(broadcasts_to(&Shape::lit(&[1, 3]), &Shape::lit(&[5, 3])));
        assert!(!broadcasts_to(&Shape::lit(&[5, 3]), &Shape::lit(&[3])));
    }
}
