//! Symbolic dimensions.
//!
//! A dimension is a monomial `coef * N^a * M^b ...` over size variables. Monomials are
//! closed under the products that `reshape(x, [-1])` needs (`[N, 784] -> [N*784]`) and
//! under exact division (the `-1` of a reshape), which is all the language asks of them.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Concrete values of size variables, bound when a model is instantiated.
pub type Bindings = BTreeMap<Arc<str>, usize>;

/// A symbolic dimension: `coef * prod(var^exp)`, variables sorted by name.
#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Dim {
    coef: u64,
    vars: Vec<(Arc<str>, u32)>,
}

/// Why a dimension could not be evaluated or combined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DimError {
    /// A size variable has no value in the bindings.
    Unbound(Arc<str>),
    /// The product does not fit in the address space.
    Overflow,
}

impl Dim {
    /// A literal dimension.
    pub fn lit(n: u64) -> Dim {
        Dim {
            coef: n,
            vars: Vec::new(),
        }
    }

    /// A size variable.
    pub fn var(name: &str) -> Dim {
        Dim {
            coef: 1,
            vars: vec![(Arc::from(name), 1)],
        }
    }

    /// The dimension `1`, the unit of products.
    pub fn one() -> Dim {
        Dim::lit(1)
    }

    /// The literal value, if this dimension has no variables.
    pub fn as_lit(&self) -> Option<u64> {
        self.vars.is_empty().then_some(self.coef)
    }

    /// Whether this is the literal `1` (the broadcastable dimension).
    pub fn is_one(&self) -> bool {
        self.as_lit() == Some(1)
    }

    /// The size variables this dimension mentions.
    pub fn vars(&self) -> impl Iterator<Item = &Arc<str>> {
        self.vars.iter().map(|(v, _)| v)
    }

    /// The product of two dimensions, or `None` if the literal part overflows.
    pub fn checked_mul(&self, other: &Dim) -> Option<Dim> {
        let coef = self.coef.checked_mul(other.coef)?;
        let mut vars: BTreeMap<Arc<str>, u32> = self.vars.iter().cloned().collect();
        for (v, e) in &other.vars {
            *vars.entry(v.clone()).or_insert(0) += e;
        }
        if coef == 0 {
            return Some(Dim::lit(0));
        }
        Some(Dim {
            coef,
            vars: vars.into_iter().collect(),
        })
    }

    /// `self / other` when it is an exact monomial, as a reshape's `-1` needs.
    pub fn exact_div(&self, other: &Dim) -> Option<Dim> {
        if other.coef == 0 || !self.coef.is_multiple_of(other.coef) {
            return None;
        }
        let mut vars: BTreeMap<Arc<str>, u32> = self.vars.iter().cloned().collect();
        for (v, e) in &other.vars {
            let have = vars.get_mut(v)?;
            if *have < *e {
                return None;
            }
            *have -= e;
            if *have == 0 {
                vars.remove(v);
            }
        }
        Some(Dim {
            coef: self.coef / other.coef,
            vars: vars.into_iter().collect(),
        })
    }

    /// The product of a list of dimensions (the element count of a shape).
    pub fn product<'a>(dims: impl IntoIterator<Item = &'a Dim>) -> Option<Dim> {
        dims.into_iter().try_fold(Dim::one(), |acc, d| acc.checked_mul(d))
    }

    /// The concrete value under `bindings`.
    pub fn eval(&self, bindings: &Bindings) -> Result<usize, DimError> {
        let mut n = usize::try_from(self.coef).map_err(|_| DimError::Overflow)?;
        for (v, e) in &self.vars {
            let x = *bindings.get(v).ok_or_else(|| DimError::Unbound(v.clone()))?;
            for _ in 0..*e {
                n = n.checked_mul(x).ok_or(DimError::Overflow)?;
            }
        }
        Ok(n)
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if self.coef != 1 || self.vars.is_empty() {
            parts.push(self.coef.to_string());
        }
        for (v, e) in &self.vars {
            parts.extend(std::iter::repeat_n(v.to_string(), *e as usize));
        }
        write!(f, "{}", parts.join("*"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_and_exact_division_round_trip() {
        let n = Dim::var("N");
        let total = n.checked_mul(&Dim::lit(784)).unwrap();
        assert_eq!(total.to_string(), "784*N");
        assert_eq!(total.exact_div(&Dim::lit(28)).unwrap().to_string(), "28*N");
        assert_eq!(total.exact_div(&n).unwrap(), Dim::lit(784));
        assert!(total.exact_div(&Dim::var("M")).is_none());
        assert!(Dim::lit(10).exact_div(&Dim::lit(3)).is_none());
    }

    #[test]
    fn evaluation_checks_overflow_and_unbound_names() {
        let mut b = Bindings::new();
        b.insert(Arc::from("N"), usize::MAX / 2);
        let big = Dim::var("N").checked_mul(&Dim::lit(4)).unwrap();
        assert_eq!(big.eval(&b), Err(DimError::Overflow));
        assert_eq!(Dim::var("M").eval(&b), Err(DimError::Unbound(Arc::from("M"))));
        assert_eq!(Dim::lit(7).eval(&b), Ok(7));
    }
}
