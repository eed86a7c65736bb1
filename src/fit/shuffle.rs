//! The order of examples in each epoch: a permutation that depends only on the seed and
//! the absolute epoch index, so a resumed run visits epoch 6 exactly as an uninterrupted
//! one does.
//!
//! The generator is `rand_chacha::ChaCha8Rng::from_seed(key)` with
//!
//! ```text
//! key = SHA-256( "nnc-shuffle-v1" || seed as 8 bytes LE || epoch index (from 0) as 8 bytes LE )
//! ```
//!
//! and the permutation is a Fisher–Yates shuffle of `0..n`: for `i` from `n-1` down to 1,
//! swap `i` with `j = (w * (i + 1)) >> 64` where `w` is one `next_u64` (a multiply-shift
//! range reduction; its bias, below `n / 2^64`, is irrelevant here). Written out rather
//! than taken from `rand::seq`, whose algorithm may change between versions.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

const DOMAIN: &[u8] = b"nnc-shuffle-v1";

/// Fills `out` with the permutation of `0..n` for `epoch` (counted from 0), reusing its
/// allocation.
pub fn epoch_permutation(n: usize, seed: u64, epoch: u64, out: &mut Vec<usize>) {
    out.clear();
    out.extend(0..n);
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(seed.to_le_bytes());
    h.update(epoch.to_le_bytes());
    let mut rng = ChaCha8Rng::from_seed(h.finalize().into());
    for i in (1..n).rev() {
        let j = ((rng.next_u64() as u128 * (i as u128 + 1)) >> 64) as usize;
        out.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_permutation_and_depends_on_seed_and_epoch() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        epoch_permutation(1000, 7, 3, &mut a);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
        epoch_permutation(1000, 7, 3, &mut b);
        assert_eq!(a, b, "same seed and epoch give the same order");
        epoch_permutation(1000, 7, 4, &mut b);
        assert_ne!(a, b, "another epoch gives another order");
        epoch_permutation(1000, 8, 3, &mut b);
        assert_ne!(a, b, "another seed gives another order");
    }

    #[test]
    fn tiny_sizes() {
        let mut v = vec![9, 9];
        epoch_permutation(0, 0, 0, &mut v);
        assert!(v.is_empty());
        epoch_permutation(1, 0, 0, &mut v);
        assert_eq!(v, vec![0]);
    }
}
