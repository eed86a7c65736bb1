//! Shared fixtures of the training tests: small models and synthetic data sets.
#![allow(dead_code)]

use nnc::io::Dataset;
use nnc::tensor::Tensor;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A small classifier: 4 features, 3 classes, one hidden layer.
pub const TINY: &str = "\
// A tiny classifier for tests.
model tiny {
    input x: [N, 4]
    input y: i32[N]
    param W: [4, 8] = he_normal
    param b: [8]
    param V: [8, 3]
    param c: [3]
    let h = tanh(x @ W + b)
    output logits = h @ V + c
    loss = cross_entropy(logits, y)
}
";

/// The same inputs and outputs with another hidden width: a different model.
pub const WIDER: &str = "\
model wider {
    input x: [N, 4]
    input y: i32[N]
    param W: [4, 16] = he_normal
    param b: [16]
    param V: [16, 3]
    param c: [3]
    let h = tanh(x @ W + b)
    output logits = h @ V + c
    loss = cross_entropy(logits, y)
}
";

/// A classifier of 4x4 images (16 pixels), for IDX directories made in tests.
pub const PIXELS: &str = "\
model pixels {
    input x: [N, 16]
    input y: i32[N]
    param W: [16, 10]
    param b: [10]
    output logits = x @ W + b
    loss = cross_entropy(logits, y)
}
";

/// A deterministic pseudo-random number in [0, 1) (a 64-bit LCG step, top bits).
pub fn lcg(state: &mut u64) -> f32 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*state >> 40) as f32 / (1u64 << 24) as f32
}

/// `n` examples of 3 separable classes: features near a class centre, with noise.
pub fn blobs(n: usize, seed: u64) -> (Tensor, Tensor) {
    let centres = [[1.0, 0.0, -1.0, 0.5], [-1.0, 1.0, 0.0, -0.5], [0.0, -1.0, 1.0, 1.0]];
    let mut s = seed.wrapping_add(1);
    let mut x = Vec::with_capacity(n * 4);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % 3;
        for centre in centres[c] {
            x.push(centre + 0.8 * (lcg(&mut s) - 0.5));
        }
        y.push(c as i32);
    }
    (Tensor::f32(vec![n, 4], x), Tensor::i32(vec![n], y))
}

/// The blobs as a data set of the tiny model's inputs.
pub fn blob_set(n: usize, seed: u64) -> Dataset {
    let (x, y) = blobs(n, seed);
    Dataset::new(vec![("x".into(), x), ("y".into(), y)]).unwrap()
}

/// Writes the blobs as a safetensors data set.
pub fn write_blobs(path: &Path, n: usize, seed: u64) {
    let (x, y) = blobs(n, seed);
    nnc::io::write_tensors(path, &[("x", &x), ("y", &y)]).unwrap();
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// An IDX file image: magic (u8 data, `dims.len()` dimensions), big-endian sizes, bytes.
pub fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// Writes an MNIST-style directory of 4x4 digits: `train` and `test` examples whose
/// label is the brightest pixel's index mod 10, gzipped or not.
pub fn write_mnist_dir(dir: &Path, train: usize, test: usize, gzip: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let mut s = 7u64;
    for (prefix, n) in [("train", train), ("t10k", test)] {
        let mut images = Vec::with_capacity(n * 16);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let label = i % 10;
            for p in 0..16 {
                let v = if p == label { 255 } else { (lcg(&mut s) * 100.0) as u8 };
                images.push(v);
            }
            labels.push(label as u8);
        }
        let files = [
            (
                format!("{prefix}-images-idx3-ubyte"),
                idx_bytes(&[n as u32, 4, 4], &images),
            ),
            (format!("{prefix}-labels-idx1-ubyte"), idx_bytes(&[n as u32], &labels)),
        ];
        for (name, bytes) in files {
            if gzip {
                let f = std::fs::File::create(dir.join(format!("{name}.gz"))).unwrap();
                let mut enc = flate2::write::GzEncoder::new(f, flate2::Compression::default());
                enc.write_all(&bytes).unwrap();
                enc.finish().unwrap();
            } else {
                std::fs::write(dir.join(name), bytes).unwrap();
            }
        }
    }
}
