//! Tensor routines of the reference interpreter: deliberately naive index arithmetic,
//! easy to check by reading. Shapes are validated by the caller (from the graph's types).

use super::float::Float;
use super::value::Value;

/// Row-major strides of `shape`.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// For each element of `to` (row-major), the offset of the element of `from` that NumPy
/// broadcasting maps to it: axes aligned on the right, a `1` or missing axis repeats.
fn broadcast_offsets(from: &[usize], to: &[usize]) -> Vec<usize> {
    let lead = to.len() - from.len();
    let from_strides = strides(from);
    let to_strides = strides(to);
    let n: usize = to.iter().product();
    (0..n)
        .map(|flat| {
            let mut off = 0;
            for (k, (&dim_stride, &d)) in to_strides.iter().zip(to).enumerate() {
                if k >= lead && from[k - lead] != 1 {
                    let i = (flat / dim_stride) % d;
                    off += i * from_strides[k - lead];
                }
            }
            off
        })
        .collect()
}

/// The NumPy broadcast of two concrete shapes (they are known to broadcast).
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Vec<usize> {
    let rank = a.len().max(b.len());
    (0..rank)
        .map(|i| {
            let da = (i + a.len()).checked_sub(rank).map_or(1, |k| a[k]);
            let db = (i + b.len()).checked_sub(rank).map_or(1, |k| b[k]);
            if da == 1 {
                db
            } else {
                da
            }
        })
        .collect()
}

/// `f` elementwise.
pub fn map<T: Float>(x: &Value<T>, f: impl Fn(T) -> T) -> Value<T> {
    Value::new(x.shape.clone(), x.data.iter().map(|&v| f(v)).collect())
}

/// `f` elementwise on the broadcast of `a` and `b`.
pub fn zip<T: Float>(a: &Value<T>, b: &Value<T>, f: impl Fn(T, T) -> T) -> Value<T> {
    let shape = broadcast_shape(&a.shape, &b.shape);
    let ia = broadcast_offsets(&a.shape, &shape);
    let ib = broadcast_offsets(&b.shape, &shape);
    let data = ia.iter().zip(&ib).map(|(&i, &j)| f(a.data[i], b.data[j])).collect();
    Value::new(shape, data)
}

/// `x` broadcast to `to`.
pub fn broadcast_to<T: Float>(x: &Value<T>, to: &[usize]) -> Value<T> {
    let data = broadcast_offsets(&x.shape, to).iter().map(|&i| x.data[i]).collect();
    Value::new(to.to_vec(), data)
}

/// For each element of `shape`, the index of its slice when `axes` are reduced, and the
/// shape of the result (the axes dropped).
fn slices(shape: &[usize], axes: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let kept: Vec<usize> = (0..shape.len()).filter(|k| !axes.contains(k)).collect();
    let out_shape: Vec<usize> = kept.iter().map(|&k| shape[k]).collect();
    let out_strides = strides(&out_shape);
    let in_strides = strides(shape);
    let n: usize = shape.iter().product();
    let slice_of = (0..n)
        .map(|flat| {
            kept.iter()
                .zip(&out_strides)
                .map(|(&k, &os)| (flat / in_strides[k]) % shape[k] * os)
                .sum()
        })
        .collect();
    (slice_of, out_shape)
}

/// Sum over `axes`.
pub fn reduce_sum<T: Float>(x: &Value<T>, axes: &[usize]) -> Value<T> {
    let (slice_of, shape) = slices(&x.shape, axes);
    let mut out = vec![T::zero(); shape.iter().product()];
    for (&s, &v) in slice_of.iter().zip(&x.data) {
        out[s] = out[s] + v;
    }
    Value::new(shape, out)
}

/// Maximum over `axes`; NaN propagates (as NumPy's `max`). An empty slice gives `-inf`.
pub fn reduce_max<T: Float>(x: &Value<T>, axes: &[usize]) -> Value<T> {
    let (slice_of, shape) = slices(&x.shape, axes);
    let mut out = vec![T::from_f64(f64::NEG_INFINITY); shape.iter().product()];
    for (&s, &v) in slice_of.iter().zip(&x.data) {
        if v > out[s] || v.is_nan() {
            out[s] = v;
        }
    }
    Value::new(shape, out)
}

/// `log(sum(exp(x)))` over `axes`, shifted by each slice's maximum so nothing overflows.
/// A slice whose maximum is infinite gives that infinity (all `-inf` gives `-inf`).
pub fn reduce_logsumexp<T: Float>(x: &Value<T>, axes: &[usize]) -> Value<T> {
    let m = reduce_max(x, axes);
    let (slice_of, shape) = slices(&x.shape, axes);
    let mut sums = vec![T::zero(); m.data.len()];
    for (&s, &v) in slice_of.iter().zip(&x.data) {
        if m.data[s].is_finite() {
            sums[s] = sums[s] + (v - m.data[s]).exp();
        }
    }
    let data = m
        .data
        .iter()
        .zip(&sums)
        .map(|(&mx, &s)| if mx.is_finite() { mx + s.ln() } else { mx })
        .collect();
    Value::new(shape, data)
}

/// `1` at the first maximum (row-major over `axes`) of each slice, `0` elsewhere. A NaN
/// counts as the maximum (as NumPy's `argmax`).
pub fn argmax_mask<T: Float>(x: &Value<T>, axes: &[usize]) -> Value<T> {
    let (slice_of, shape) = slices(&x.shape, axes);
    let mut best: Vec<Option<usize>> = vec![None; shape.iter().product()];
    // Row-major order over the whole tensor visits each slice's elements in row-major
    // order over the reduced axes, so keeping the first strict maximum finds the first.
    for (i, (&s, &v)) in slice_of.iter().zip(&x.data).enumerate() {
        let better = match best[s] {
            None => true,
            Some(j) => {
                let b = x.data[j];
                !b.is_nan() && (v > b || v.is_nan())
            }
        };
        if better {
            best[s] = Some(i);
        }
    }
    let mut data = vec![T::zero(); x.data.len()];
    for i in best.into_iter().flatten() {
        data[i] = T::one();
    }
    Value::new(x.shape.clone(), data)
}

/// The transpose of a matrix.
pub fn transpose<T: Float>(x: &Value<T>) -> Value<T> {
    let (r, c) = (x.shape[0], x.shape[1]);
    let mut data = Vec::with_capacity(r * c);
    // an empty matrix may still have a huge side: do not loop over it
    if r == 0 {
        return Value::new(vec![c, r], data);
    }
    for j in 0..c {
        for i in 0..r {
            data.push(x.data[i * c + j]);
        }
    }
    Value::new(vec![c, r], data)
}

/// `op(a) @ op(b)`, where `op` transposes when its flag is set.
pub fn matmul<T: Float>(a: &Value<T>, b: &Value<T>, ta: bool, tb: bool) -> Value<T> {
    let a = if ta { transpose(a) } else { a.clone() };
    let b = if tb { transpose(b) } else { b.clone() };
    let (m, k, p) = (a.shape[0], a.shape[1], b.shape[1]);
    let mut data = vec![T::zero(); m * p];
    if p == 0 {
        return Value::new(vec![m, p], data);
    }
    for i in 0..m {
        for j in 0..p {
            let mut acc = T::zero();
            for l in 0..k {
                acc = acc + a.data[i * k + l] * b.data[l * p + j];
            }
            data[i * p + j] = acc;
        }
    }
    Value::new(vec![m, p], data)
}

/// The one-hot encoding of labels already checked to lie in `[0, classes)`.
pub fn one_hot<T: Float>(shape: &[usize], labels: &[i32], classes: usize) -> Value<T> {
    let mut data = vec![T::zero(); labels.len() * classes];
    for (i, &l) in labels.iter().enumerate() {
        data[i * classes + l as usize] = T::one();
    }
    let mut out_shape = shape.to_vec();
    out_shape.push(classes);
    Value::new(out_shape, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(shape: &[usize], data: &[f64]) -> Value<f64> {
        Value::new(shape.to_vec(), data.to_vec())
    }

    #[test]
    fn broadcasting_aligns_on_the_right() {
        let a = v(&[2, 1], &[1.0, 2.0]);
        let b = v(&[3], &[10.0, 20.0, 30.0]);
        let c = zip(&a, &b, |x, y| x + y);
        assert_eq!(c.shape, vec![2, 3]);
        assert_eq!(c.data, vec![11.0, 21.0, 31.0, 12.0, 22.0, 32.0]);
    }

    #[test]
    fn reductions_drop_axes() {
        let x = v(&[2, 3], &[1.0, 5.0, 3.0, 4.0, 2.0, 6.0]);
        assert_eq!(reduce_sum(&x, &[0]).data, vec![5.0, 7.0, 9.0]);
        assert_eq!(reduce_sum(&x, &[1]).data, vec![9.0, 12.0]);
        assert_eq!(reduce_sum(&x, &[0, 1]).data, vec![21.0]);
        assert_eq!(reduce_max(&x, &[1]).data, vec![5.0, 6.0]);
        let lse = reduce_logsumexp(&x, &[0]);
        assert!((lse.data[0] - (1f64.exp() + 4f64.exp()).ln()).abs() < 1e-12);
    }

    #[test]
    fn argmax_mask_marks_the_first_maximum_only() {
        let x = v(&[2, 3], &[7.0, 7.0, 1.0, 0.0, 2.0, 2.0]);
        assert_eq!(argmax_mask(&x, &[1]).data, vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
        assert_eq!(argmax_mask(&x, &[0, 1]).data, vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(argmax_mask(&x, &[0]).data, vec![1.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn logsumexp_of_all_minus_infinity_is_minus_infinity() {
        let x = v(&[2], &[f64::NEG_INFINITY, f64::NEG_INFINITY]);
        assert_eq!(reduce_logsumexp(&x, &[0]).data, vec![f64::NEG_INFINITY]);
    }

    #[test]
    fn matmul_flags_transpose_operands() {
        let a = v(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let at = transpose(&a);
        let plain = matmul(&a, &at, false, false);
        assert_eq!(plain.data, vec![14.0, 32.0, 32.0, 77.0]);
        assert_eq!(matmul(&at, &at, true, false), plain);
        assert_eq!(matmul(&a, &a, false, true), plain);
        assert_eq!(matmul(&at, &a, true, true), plain);
    }
}
