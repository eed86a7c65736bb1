//! Arbitrary bytes never panic the readers: random, mutated valid files and random headers.

use nnc::io::{encode_tensors, read_idx_bytes, read_tensors_bytes};
use nnc::tensor::Tensor;
use proptest::prelude::*;

fn valid_safetensors() -> Vec<u8> {
    let a = Tensor::f32(vec![2, 3], vec![1., 2., 3., 4., 5., 6.]);
    let b = Tensor::i32(vec![3], vec![7, 8, 9]);
    let s = Tensor::f32(vec![], vec![0.5]);
    encode_tensors(&[("a", &a), ("b", &b), ("s", &s)]).unwrap()
}

fn valid_idx() -> Vec<u8> {
    let mut v = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2];
    v.extend(0..8u8);
    v
}

fn header_file(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// Applies `(position, byte)` overwrites and an optional truncation.
fn mutate(mut v: Vec<u8>, edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    for &(i, b) in edits {
        let n = v.len();
        v[i % n] = b;
    }
    if let Some(c) = cut {
        v.truncate(c % (v.len() + 1));
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = read_tensors_bytes(&bytes);
        let _ = read_idx_bytes(&bytes);
    }

    #[test]
    fn mutated_safetensors_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let _ = read_tensors_bytes(&mutate(valid_safetensors(), &edits, cut));
    }

    #[test]
    fn mutated_idx_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        cut in proptest::option::of(any::<usize>()),
        gzip in any::<bool>(),
    ) {
        let mut bytes = valid_idx();
        if gzip {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&bytes).unwrap();
            bytes = e.finish().unwrap();
        }
        let _ = read_idx_bytes(&mutate(bytes, &edits, cut));
    }

    #[test]
    fn random_headers_never_panic(
        dtype in prop::sample::select(vec!["F32", "I32", "U8", "I64", "F64", "BF16", "F4", "XX"]),
        shape in proptest::collection::vec(prop_oneof![0u64..5, any::<u64>()], 0..4),
        begin in prop_oneof![0u64..16, any::<u64>()],
        end in prop_oneof![0u64..64, any::<u64>()],
        data_len in 0usize..64,
    ) {
        let header = format!(
            r#"{{"t":{{"dtype":"{dtype}","shape":{shape:?},"data_offsets":[{begin},{end}]}}}}"#
        );
        let _ = read_tensors_bytes(&header_file(&header, &vec![0u8; data_len]));
    }

    #[test]
    fn random_idx_headers_never_panic(
        ty in prop_oneof![Just(8u8), any::<u8>()],
        dims in proptest::collection::vec(prop_oneof![0u32..4, any::<u32>()], 0..5),
        data_len in 0usize..64,
    ) {
        let mut v = vec![0, 0, ty, dims.len() as u8];
        for d in &dims {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v.extend(std::iter::repeat_n(1u8, data_len));
        let _ = read_idx_bytes(&v);
    }
}

#[test]
fn the_unmutated_files_do_parse() {
    // Guards the generators above: mutations start from files that are valid.
    assert_eq!(read_tensors_bytes(&valid_safetensors()).unwrap().len(), 3);
    assert_eq!(read_idx_bytes(&valid_idx()).unwrap().dims, vec![2, 2, 2]);
    let header = r#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    assert!(read_tensors_bytes(&header_file(header, &[0u8; 8])).is_ok());
}
