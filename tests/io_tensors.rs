//! Safetensors reading, writing and checking against a model's declarations; atomic writes.

use nnc::io::{
    encode_tensors, load_inputs, load_params, load_params_with, load_run, read_tensors, read_tensors_bytes,
    write_atomic, write_tensors, IoError, LineLog,
};
use nnc::ir::{Bindings, DType, Dim, Graph, Init, Shape, TensorType};
use nnc::tensor::Tensor;
use safetensors::{serialize, tensor::TensorView, Dtype, SafeTensors};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file of arbitrary stored dtypes, made by the reference implementation.
fn stored(dir: &Path, file: &str, tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> PathBuf {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    let path = dir.join(file);
    std::fs::write(&path, serialize(views, None).unwrap()).unwrap();
    path
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn i32_bytes(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A file image from a literal header and data, for malformed cases.
fn raw_file(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// inputs `x: [N, 3]`, `y: i32[N]`; params `W: [3, H]`, `b: [H]`.
fn model() -> Graph {
    let n = Dim::var("N");
    let h = Dim::var("H");
    let mut g = Graph::new();
    g.add_input("x", TensorType::f32(Shape(vec![n.clone(), Dim::lit(3)])), None);
    g.add_input(
        "y",
        TensorType {
            dtype: DType::I32,
            shape: Shape(vec![n]),
        },
        None,
    );
    g.add_param("W", Shape(vec![Dim::lit(3), h.clone()]), Init::HeNormal, None);
    g.add_param("b", Shape(vec![h]), Init::Const(0.0), None);
    g
}

fn good_inputs(dir: &Path) -> PathBuf {
    let x = Tensor::f32(vec![2, 3], vec![1., 2., 3., 4., 5., 6.]);
    let y = Tensor::i32(vec![2], vec![0, 2]);
    let p = dir.join("in.safetensors");
    write_tensors(&p, &[("x", &x), ("y", &y)]).unwrap();
    p
}

fn msg(e: IoError) -> String {
    eprintln!("MSG: {e}");
    e.to_string()
}

#[test]
fn round_trip_f32_i32_and_scalars() {
    let dir = tempfile::tempdir().unwrap();
    let a = Tensor::f32(vec![2, 3], vec![1.5, -2.0, 0.0, f32::MAX, f32::MIN_POSITIVE, -0.0]);
    let b = Tensor::i32(vec![4], vec![i32::MIN, -1, 0, i32::MAX]);
    let s = Tensor::f32(vec![], vec![7.25]);
    let e = Tensor::f32(vec![0, 5], vec![]);
    let p = dir.path().join("t.safetensors");
    write_tensors(&p, &[("a", &a), ("b", &b), ("loss", &s), ("empty", &e)]).unwrap();
    let back = read_tensors(&p).unwrap();
    assert_eq!(back.len(), 4);
    assert_eq!(back["a"], a);
    assert_eq!(back["b"], b);
    assert_eq!(back["loss"], s);
    assert_eq!(back["empty"], e);

    // The reference implementation reads our files: dtypes, shapes and bytes.
    let bytes = std::fs::read(&p).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let la = st.tensor("a").unwrap();
    assert_eq!((la.dtype(), la.shape()), (Dtype::F32, &[2usize, 3][..]));
    assert_eq!(la.data(), &f32_bytes(a.as_f32().unwrap())[..]);
    let ls = st.tensor("loss").unwrap();
    assert_eq!((ls.dtype(), ls.shape()), (Dtype::F32, &[][..]));
    assert_eq!(st.tensor("b").unwrap().dtype(), Dtype::I32);
    assert_eq!(
        encode_tensors(&[("a", &a), ("b", &b), ("loss", &s), ("empty", &e)]).unwrap(),
        bytes
    );
}

#[test]
fn writing_rejects_duplicate_names_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = Tensor::zeros(vec![2]);
    let p = dir.path().join("dup.safetensors");
    let err = msg(write_tensors(&p, &[("a", &a), ("a", &a)]).unwrap_err());
    assert!(err.contains("`a`") && err.contains("twice"), "{err}");
    assert!(!p.exists());
}

#[test]
fn reads_files_made_by_the_reference_implementation_with_conversions() {
    let dir = tempfile::tempdir().unwrap();
    let x64: Vec<u8> = [1.5f64, -2.25, 3.0, 0.5, 1e-3, 100.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let y64: Vec<u8> = [7i64, -3].iter().flat_map(|v| v.to_le_bytes()).collect();
    let p = stored(
        dir.path(),
        "conv.safetensors",
        &[("x", Dtype::F64, vec![2, 3], x64), ("y", Dtype::I64, vec![2], y64)],
    );
    let t = load_inputs(&p, &model()).unwrap();
    assert_eq!(t[0], Tensor::f32(vec![2, 3], vec![1.5, -2.25, 3.0, 0.5, 1e-3, 100.0]));
    assert_eq!(t[1], Tensor::i32(vec![2], vec![7, -3]));

    let p = stored(
        dir.path(),
        "u8.safetensors",
        &[
            ("x", Dtype::U8, vec![1, 3], vec![0, 128, 255]),
            ("y", Dtype::U8, vec![1], vec![9]),
        ],
    );
    let t = load_inputs(&p, &model()).unwrap();
    assert_eq!(t[0], Tensor::f32(vec![1, 3], vec![0.0, 128.0, 255.0]));
    assert_eq!(t[1], Tensor::i32(vec![1], vec![9]));

    // Without a model, floats become f32 and integers i32.
    let all = read_tensors(&p).unwrap();
    assert_eq!(all["x"], Tensor::i32(vec![1, 3], vec![0, 128, 255]));
}

#[test]
fn i64_labels_out_of_i32_range_are_an_error_naming_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let y64: Vec<u8> = [1i64, 1 << 40].iter().flat_map(|v| v.to_le_bytes()).collect();
    let p = stored(
        dir.path(),
        "big.safetensors",
        &[
            ("x", Dtype::F32, vec![2, 3], f32_bytes(&[0.0; 6])),
            ("y", Dtype::I64, vec![2], y64),
        ],
    );
    let err = load_inputs(&p, &model()).unwrap_err();
    assert!(
        matches!(err, IoError::Range { ref name, index: 1, .. } if name == "y"),
        "{err:?}"
    );
    assert!(msg(err).contains("big.safetensors"));
}

#[test]
fn inputs_are_returned_in_graph_order_and_size_variables_bound() {
    let dir = tempfile::tempdir().unwrap();
    let ip = good_inputs(dir.path());
    let w = Tensor::zeros(vec![3, 5]);
    let b = Tensor::zeros(vec![5]);
    let pp = dir.path().join("p.safetensors");
    write_tensors(&pp, &[("b", &b), ("W", &w)]).unwrap();
    let loaded = load_run(&model(), &ip, Some(&pp)).unwrap();
    assert_eq!(loaded.inputs[0].shape, vec![2, 3]);
    assert_eq!(loaded.inputs[1].shape, vec![2]);
    assert_eq!(loaded.params.as_ref().unwrap()[0], w);
    assert_eq!(loaded.bindings[&Arc::from("N")], 2);
    assert_eq!(loaded.bindings[&Arc::from("H")], 5);
    assert_eq!(load_params(&pp, &model()).unwrap(), vec![w, b]);
}

#[test]
fn missing_tensor_is_named_with_its_expected_type() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.safetensors");
    write_tensors(&p, &[("x", &Tensor::zeros(vec![2, 3]))]).unwrap();
    let err = msg(load_inputs(&p, &model()).unwrap_err());
    assert!(
        err.contains("`y`") && err.contains("missing") && err.contains("i32[N]"),
        "{err}"
    );
    assert!(err.contains("m.safetensors") && err.contains("`x`"), "{err}");
}

#[test]
fn extra_tensor_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("e.safetensors");
    let x = Tensor::zeros(vec![2, 3]);
    let y = Tensor::i32(vec![2], vec![0, 1]);
    write_tensors(&p, &[("x", &x), ("y", &y), ("z", &x)]).unwrap();
    let err = load_inputs(&p, &model()).unwrap_err();
    assert!(matches!(err, IoError::Extra { ref name, .. } if name == "z"), "{err:?}");
    assert!(msg(err).contains("e.safetensors"));
}

#[test]
fn wrong_dtype_is_named_with_expected_and_found() {
    let dir = tempfile::tempdir().unwrap();
    let x = Tensor::zeros(vec![2, 3]);
    let y = Tensor::f32(vec![2], vec![0.0, 1.0]);
    let p = dir.path().join("d.safetensors");
    write_tensors(&p, &[("x", &x), ("y", &y)]).unwrap();
    let err = msg(load_inputs(&p, &model()).unwrap_err());
    assert!(
        err.contains("`y`") && err.contains("F32") && err.contains("i32"),
        "{err}"
    );

    let p = stored(
        dir.path(),
        "bf16.safetensors",
        &[
            ("W", Dtype::BF16, vec![3, 1], vec![0; 6]),
            ("b", Dtype::F32, vec![1], f32_bytes(&[0.0])),
        ],
    );
    let err = msg(load_params(&p, &model()).unwrap_err());
    assert!(
        err.contains("`W`") && err.contains("BF16") && err.contains("f32"),
        "{err}"
    );
}

#[test]
fn wrong_shape_is_named_with_expected_and_found() {
    let dir = tempfile::tempdir().unwrap();
    let x = Tensor::zeros(vec![2, 4]);
    let y = Tensor::i32(vec![2], vec![0, 1]);
    let p = dir.path().join("s.safetensors");
    write_tensors(&p, &[("x", &x), ("y", &y)]).unwrap();
    let err = load_inputs(&p, &model()).unwrap_err();
    match &err {
        IoError::Shape {
            name, expected, found, ..
        } => {
            assert_eq!((name.as_str(), found.as_slice()), ("x", &[2usize, 4][..]));
            assert!(expected.contains("[N, 3]"), "{expected}");
        }
        other => panic!("expected a shape error, got {other:?}"),
    }
    assert!(msg(err).contains("s.safetensors"));

    // Wrong rank.
    write_tensors(&p, &[("x", &Tensor::zeros(vec![6])), ("y", &y)]).unwrap();
    assert!(matches!(load_inputs(&p, &model()), Err(IoError::Shape { ref name, .. }) if name == "x"));
}

#[test]
fn disagreeing_size_variables_name_both_tensors() {
    let dir = tempfile::tempdir().unwrap();
    let x = Tensor::zeros(vec![2, 3]);
    let y = Tensor::i32(vec![3], vec![0, 1, 2]);
    let p = dir.path().join("c.safetensors");
    write_tensors(&p, &[("x", &x), ("y", &y)]).unwrap();
    let err = msg(load_inputs(&p, &model()).unwrap_err());
    assert!(
        err.contains("`x`") && err.contains("`y`") && err.contains(" N "),
        "{err}"
    );
    assert!(err.contains('2') && err.contains('3'), "{err}");

    // Across files: W binds H = 5, b says 4.
    let ip = good_inputs(dir.path());
    let pp = dir.path().join("p.safetensors");
    write_tensors(
        &pp,
        &[("W", &Tensor::zeros(vec![3, 5])), ("b", &Tensor::zeros(vec![4]))],
    )
    .unwrap();
    let err = msg(load_run(&model(), &ip, Some(&pp)).unwrap_err());
    assert!(err.contains("`W`") && err.contains("`b`") && err.contains("H"), "{err}");

    // Against sizes already bound elsewhere.
    let mut known = Bindings::new();
    known.insert(Arc::from("H"), 7);
    let err = msg(load_params_with(&pp, &model(), &known).unwrap_err());
    assert!(err.contains("`W`") && err.contains("already bound"), "{err}");
}

#[test]
fn truncated_file_is_an_error_naming_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let ip = good_inputs(dir.path());
    let bytes = std::fs::read(&ip).unwrap();
    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() - 4]).unwrap();
    let err = msg(load_inputs(&cut, &model()).unwrap_err());
    // Tensors are stored in name order, so the last one, `y`, is cut short.
    assert!(err.contains("`y`") && err.contains("cut.safetensors"), "{err}");
    for n in [0, 5, 8, 20] {
        assert!(read_tensors_bytes(&bytes[..n]).is_err());
    }
}

#[test]
fn garbage_file_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("junk.safetensors");
    std::fs::write(&p, b"this is certainly not a tensor file at all").unwrap();
    let err = msg(load_inputs(&p, &model()).unwrap_err());
    assert!(
        err.contains("junk.safetensors") && err.contains("not a valid safetensors"),
        "{err}"
    );
    let err = msg(read_tensors_bytes(&raw_file("[1, 2]", b"")).unwrap_err());
    assert!(err.contains("JSON object"), "{err}");
    let missing = dir.path().join("nope.safetensors");
    let err = msg(read_tensors(&missing).unwrap_err());
    assert!(err.contains("nope.safetensors"), "{err}");
}

#[test]
fn huge_claimed_shape_is_rejected_before_allocation_naming_the_tensor() {
    let huge = r#"{"x":{"dtype":"F32","shape":[1000000000000,1000000],"data_offsets":[0,8]}}"#;
    let err = msg(read_tensors_bytes(&raw_file(huge, &[0; 8])).unwrap_err());
    assert!(err.contains("`x`"), "{err}");
    let overflow = r#"{"x":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}"#;
    let err = msg(read_tensors_bytes(&raw_file(overflow, &[0; 8])).unwrap_err());
    assert!(err.contains("`x`") && err.contains("too large"), "{err}");
    let lying = r#"{"x":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4000000000]}}"#;
    let err = msg(read_tensors_bytes(&raw_file(lying, &[0; 8])).unwrap_err());
    assert!(err.contains("`x`") && err.contains("truncated"), "{err}");
    let header_lie = [0xff; 16];
    assert!(read_tensors_bytes(&header_lie).is_err());
}

#[test]
fn overlapping_or_unused_data_is_rejected() {
    let data = i32_bytes(&[1, 2]);
    let overlap = r#"{"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[1],"data_offsets":[4,8]}}"#;
    let err = msg(read_tensors_bytes(&raw_file(overlap, &data)).unwrap_err());
    assert!(err.contains("`b`") && err.contains("overlaps"), "{err}");
    let trailing = r#"{"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}"#;
    assert!(read_tensors_bytes(&raw_file(trailing, &data)).is_err());
    let with_meta = r#"{"__metadata__":{"k":"v"},"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}"#;
    let ok = read_tensors_bytes(&raw_file(with_meta, &data)).unwrap();
    assert_eq!(ok["a"], Tensor::i32(vec![2], vec![1, 2]));
}

#[test]
fn failed_atomic_write_keeps_the_old_file_and_leaves_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("params.safetensors");
    std::fs::write(&p, b"old contents").unwrap();
    let err = write_atomic(&p, |w| {
        w.write_all(b"half of the new ")?;
        Err(std::io::Error::other("disk on fire"))
    })
    .unwrap_err();
    assert!(msg(err).contains("params.safetensors"));
    assert_eq!(std::fs::read(&p).unwrap(), b"old contents");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("params.safetensors")]);

    write_atomic(&p, |w| w.write_all(b"new")).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"new");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn write_into_a_missing_directory_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("no/such/dir/out.safetensors");
    let err = msg(write_tensors(&p, &[("a", &Tensor::zeros(vec![1]))]).unwrap_err());
    assert!(err.contains("out.safetensors"), "{err}");
}

#[test]
fn line_log_rewrites_whole_lines_and_replaces_an_old_log() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("log.jsonl");
    std::fs::write(&p, "stale\n").unwrap();
    let mut log = LineLog::new(&p);
    log.append(r#"{"epoch":1}"#).unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "{\"epoch\":1}\n");
    log.append("{\"epoch\":2}\n").unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "{\"epoch\":1}\n{\"epoch\":2}\n");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
