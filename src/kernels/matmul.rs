//! Matrix products: a wrapper of `gemm` (runtime-dispatched SIMD kernels, AVX2 or
//! AVX-512), with the degenerate sizes handled here.

/// One strided matrix operand: element `(i, j)` at `ptr[i * rs + j * cs]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef {
    /// First element.
    pub ptr: *const f32,
    /// Row stride in elements.
    pub rs: isize,
    /// Column stride in elements.
    pub cs: isize,
}

/// `c = scale * a @ b`, or `c += scale * a @ b` when `accumulate`, with `a: [m, k]`,
/// `b: [k, n]`, `c: [m, n]`. `threads > 1` lets gemm use that many threads; with one
/// thread the result is deterministic.
///
/// # Safety
/// Every element the strides reach must be valid (and `c`'s writable), and `c` must not
/// overlap `a` or `b`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn matmul(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef,
    b: MatRef,
    c: *mut f32,
    c_rs: isize,
    c_cs: isize,
    accumulate: bool,
    scale: f32,
    threads: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m as isize {
                for j in 0..n as isize {
                    // SAFETY: (i, j) is inside c by the caller's contract.
                    unsafe { *c.offset(i * c_rs + j * c_cs) = 0.0 };
                }
            }
        }
        return;
    }
    let par = if threads > 1 && m.saturating_mul(k).saturating_mul(n) >= PARALLEL_MIN_MACS {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: forwarded from the caller. gemm computes dst = alpha*dst + beta*lhs*rhs
    // and takes column strides before row strides.
    unsafe {
        gemm::gemm(
            m, n, k, c, c_cs, c_rs, accumulate, a.ptr, a.cs, a.rs, b.ptr, b.cs, b.rs, 1.0, scale, false, false, false,
            par,
        )
    }
}

/// Products smaller than this many multiply-adds (about 200 us on one core) run on one
/// thread whatever `threads` says: waking a second thread and splitting the work costs
/// more than it saves, and makes step times erratic (measured on 2 cores: the batch-64
/// training step, whose largest products are 6.4M multiply-adds, took a median 0.58 ms
/// on one thread and 0.83 ms on two; batch 1024, with 103M, 10.2 ms and 6.9 ms).
pub const PARALLEL_MIN_MACS: usize = 1 << 24;

/// The C-ABI entry JIT code calls; see [`matmul`]. `accumulate` is 0 or 1.
///
/// # Safety
/// As [`matmul`]; the JIT only emits calls whose operands the schedule's bounds check
/// proved to lie inside buffers the runtime validated.
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn nnc_matmul(
    m: usize,
    k: usize,
    n: usize,
    a: *const f32,
    a_rs: isize,
    a_cs: isize,
    b: *const f32,
    b_rs: isize,
    b_cs: isize,
    c: *mut f32,
    c_rs: isize,
    c_cs: isize,
    accumulate: u32,
    scale: f32,
    threads: usize,
) {
    let a = MatRef {
        ptr: a,
        rs: a_rs,
        cs: a_cs,
    };
    let b = MatRef {
        ptr: b,
        rs: b_rs,
        cs: b_cs,
    };
    // SAFETY: forwarded from the caller.
    unsafe { matmul(m, k, n, a, b, c, c_rs, c_cs, accumulate != 0, scale, threads) }
}
