//! IDX files, the bundled MNIST subset, and data sets checked against a model's inputs.

use flate2::{write::GzEncoder, Compression};
use nnc::io::{load_mnist_dir, read_idx, read_idx_bytes, write_tensors, Dataset, IoError, Split};
use nnc::ir::{DType, Dim, Graph, Shape, TensorType};
use nnc::tensor::Tensor;
use std::io::Write;
use std::path::{Path, PathBuf};

fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = magic.to_be_bytes().to_vec();
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/mnist-10k")
}

/// A tiny MNIST-style directory: 3 images of 2x2 and their labels; `gzip` selects the
/// compressed form for the train split (the test split is always plain).
fn tiny_mnist(dir: &Path, gzip: bool) {
    let pixels: Vec<u8> = (0..12).map(|i| (i * 20) as u8).collect();
    let images = idx(0x803, &[3, 2, 2], &pixels);
    let labels = idx(0x801, &[3], &[4, 0, 9]);
    let (ie, le) = if gzip {
        (gz(&images), gz(&labels))
    } else {
        (images.clone(), labels.clone())
    };
    let suffix = if gzip { ".gz" } else { "" };
    std::fs::write(dir.join(format!("train-images-idx3-ubyte{suffix}")), ie).unwrap();
    std::fs::write(dir.join(format!("train-labels-idx1-ubyte{suffix}")), le).unwrap();
    std::fs::write(dir.join("t10k-images-idx3-ubyte"), &images).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), &labels).unwrap();
}

fn input(g: &mut Graph, name: &str, dtype: DType, dims: Vec<Dim>) {
    g.add_input(
        name,
        TensorType {
            dtype,
            shape: Shape(dims),
        },
        None,
    );
}

/// `x: [N, ...per_example]`, `y: i32[N]`.
fn classifier(per_example: &[u64]) -> Graph {
    let mut g = Graph::new();
    let mut xd = vec![Dim::var("N")];
    xd.extend(per_example.iter().map(|&d| Dim::lit(d)));
    input(&mut g, "x", DType::F32, xd);
    input(&mut g, "y", DType::I32, vec![Dim::var("N")]);
    g
}

#[test]
fn idx_plain_and_gzip_decode_the_same() {
    let plain = idx(0x803, &[2, 1, 3], &[1, 2, 3, 4, 5, 6]);
    let a = read_idx_bytes(&plain).unwrap();
    assert_eq!(a.dims, vec![2, 1, 3]);
    assert_eq!(a.data, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(read_idx_bytes(&gz(&plain)).unwrap(), a);
    let dir = tempfile::tempdir().unwrap();
    // Gzip is recognised by content, not by name.
    let p = dir.path().join("oddly-named");
    std::fs::write(&p, gz(&plain)).unwrap();
    assert_eq!(read_idx(&p).unwrap(), a);
}

#[test]
fn idx_errors_say_what_is_wrong() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![0, 0], "too short"),
        (idx(0x01000803, &[1, 1, 1], &[0]), "two zero bytes"),
        (idx(0x0D01, &[1], &[0, 0, 0, 0]), "element type 0x0d"),
        (idx(0x803, &[2], &[]), "inside the header"),
        (idx(0x801, &[5], &[1, 2]), "truncated"),
        (idx(0x801, &[2], &[1, 2, 3]), "extra bytes"),
        (idx(0x803, &[65536, 65536, 65536], &[]), "too large"),
        (gz(&idx(0x801, &[5], &[1, 2]))[..10].to_vec(), "gzip"),
    ];
    for (bytes, want) in cases {
        let err = read_idx_bytes(&bytes).unwrap_err().to_string();
        assert!(err.contains(want), "expected `{want}` in: {err}");
    }
}

#[test]
fn tiny_mnist_directory_loads_plain_and_gzip() {
    for gzip in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        tiny_mnist(dir.path(), gzip);
        let d = load_mnist_dir(dir.path(), Split::Train).unwrap();
        assert_eq!(d.len(), 3);
        let x = &d.tensors[0].1;
        assert_eq!(x.shape, vec![3, 4]);
        assert_eq!(x.as_f32().unwrap()[1], 20.0 / 255.0);
        assert_eq!(d.tensors[1].1, Tensor::i32(vec![3], vec![4, 0, 9]));
        assert_eq!(load_mnist_dir(dir.path(), Split::Test).unwrap(), d);
    }
}

#[test]
fn mnist_directory_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_mnist_dir(dir.path(), Split::Train).unwrap_err().to_string();
    assert!(err.contains("train-images-idx3-ubyte"), "{err}");

    tiny_mnist(dir.path(), false);
    std::fs::write(dir.path().join("t10k-labels-idx1-ubyte"), idx(0x801, &[2], &[1, 2])).unwrap();
    let err = load_mnist_dir(dir.path(), Split::Test).unwrap_err().to_string();
    assert!(err.contains("3 images") && err.contains("2 labels"), "{err}");

    // Images and labels swapped: wrong magic for the role.
    std::fs::write(dir.path().join("t10k-images-idx3-ubyte"), idx(0x801, &[2], &[1, 2])).unwrap();
    let err = load_mnist_dir(dir.path(), Split::Test).unwrap_err().to_string();
    assert!(
        err.contains("t10k-images-idx3-ubyte") && err.contains("0x00000803"),
        "{err}"
    );
}

#[test]
fn bundled_mnist_subset_has_8000_train_and_2000_test_digits() {
    for (split, count) in [(Split::Train, 8000), (Split::Test, 2000)] {
        let d = load_mnist_dir(bundled(), split).unwrap();
        assert_eq!(d.len(), count);
        let x = d.tensors[0].1.as_f32().unwrap();
        assert_eq!(d.tensors[0].1.shape, vec![count, 784]);
        assert!(x.iter().all(|&p| (0.0..=1.0).contains(&p)));
        assert!(x.contains(&1.0) && x.contains(&0.0));
        let y = d.tensors[1].1.as_i32().unwrap();
        assert!(y.iter().all(|&l| (0..10).contains(&l)));
        for class in 0..10 {
            assert!(y.contains(&class), "class {class} missing from {split:?}");
        }
    }
}

#[test]
fn mnist_maps_to_the_model_inputs_in_their_declared_shapes() {
    let flat = Dataset::from_mnist_dir(bundled(), Split::Test, &classifier(&[784])).unwrap();
    assert_eq!(flat.tensors[0].0, "x");
    assert_eq!(flat.tensors[0].1.shape, vec![2000, 784]);
    assert_eq!(flat.tensors[1].0, "y");
    let square = Dataset::from_mnist_dir(bundled(), Split::Test, &classifier(&[1, 28, 28])).unwrap();
    assert_eq!(square.tensors[0].1.shape, vec![2000, 1, 28, 28]);
    assert_eq!(square.tensors[0].1.data, flat.tensors[0].1.data);

    // A per-example size variable takes the remaining count.
    let mut g = Graph::new();
    input(&mut g, "img", DType::F32, vec![Dim::var("B"), Dim::var("D")]);
    input(&mut g, "lab", DType::I32, vec![Dim::var("B")]);
    let d = Dataset::load(bundled(), Split::Train, &g).unwrap();
    assert_eq!(d.tensors[0].1.shape, vec![8000, 784]);
}

#[test]
fn mnist_rejects_models_it_cannot_feed() {
    let err = Dataset::from_mnist_dir(bundled(), Split::Test, &classifier(&[28, 29]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`x`") && err.contains("784"), "{err}");

    let mut g = Graph::new();
    input(&mut g, "x", DType::F32, vec![Dim::var("N"), Dim::lit(784)]);
    input(&mut g, "y", DType::F32, vec![Dim::var("N"), Dim::lit(10)]);
    let err = Dataset::from_mnist_dir(bundled(), Split::Test, &g)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`y`") && err.contains("i32"), "{err}");

    let mut g = Graph::new();
    input(&mut g, "x", DType::F32, vec![Dim::var("N"), Dim::lit(784)]);
    let err = Dataset::from_mnist_dir(bundled(), Split::Test, &g)
        .unwrap_err()
        .to_string();
    assert!(err.contains("two inputs"), "{err}");

    let mut g = Graph::new();
    input(&mut g, "x", DType::F32, vec![Dim::lit(32), Dim::lit(784)]);
    input(&mut g, "y", DType::I32, vec![Dim::lit(32)]);
    let err = Dataset::from_mnist_dir(bundled(), Split::Test, &g)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`x`") && err.contains("size variable for the batch"),
        "{err}"
    );
}

fn write_set(dir: &Path, x: &Tensor, y: &Tensor) -> PathBuf {
    let p = dir.join("set.safetensors");
    write_tensors(&p, &[("x", x), ("y", y)]).unwrap();
    p
}

#[test]
fn safetensors_data_set_loads_and_gathers_batches() {
    let dir = tempfile::tempdir().unwrap();
    let x = Tensor::f32(vec![4, 2], vec![0., 1., 10., 11., 20., 21., 30., 31.]);
    let y = Tensor::i32(vec![4], vec![0, 1, 2, 3]);
    let p = write_set(dir.path(), &x, &y);
    let d = Dataset::load(&p, Split::Train, &classifier(&[2])).unwrap();
    assert_eq!(d.len(), 4);
    assert_eq!(d.example_shape(0), &[2]);
    let mut batch = d.batch_buffers(3);
    assert_eq!(batch[0].shape, vec![3, 2]);
    d.gather(&[3, 0, 2], &mut batch).unwrap();
    assert_eq!(batch[0], Tensor::f32(vec![3, 2], vec![30., 31., 0., 1., 20., 21.]));
    assert_eq!(batch[1], Tensor::i32(vec![3], vec![3, 0, 2]));

    assert!(matches!(d.gather(&[4, 0, 1], &mut batch), Err(IoError::Batch { .. })));
    assert!(matches!(d.gather(&[0, 1], &mut batch), Err(IoError::Batch { .. })));
}

#[test]
fn safetensors_data_set_errors_name_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let x = Tensor::zeros(vec![4, 2]);
    let y3 = Tensor::i32(vec![3], vec![0, 1, 2]);
    let p = write_set(dir.path(), &x, &y3);
    let err = Dataset::from_safetensors(&p, &classifier(&[2]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`x`") && err.contains("`y`") && err.contains('4') && err.contains('3'),
        "{err}"
    );

    let y = Tensor::i32(vec![4], vec![0, 1, 2, 3]);
    let p = write_set(dir.path(), &x, &y);
    let err = Dataset::from_safetensors(&p, &classifier(&[3]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`x`") && err.contains("[4, 2]"), "{err}");

    let p = dir.path().join("only_x.safetensors");
    write_tensors(&p, &[("x", &x)]).unwrap();
    let err = Dataset::from_safetensors(&p, &classifier(&[2]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`y`") && err.contains("missing"), "{err}");

    let p = dir.path().join("extra.safetensors");
    write_tensors(&p, &[("x", &x), ("y", &y), ("id", &y)]).unwrap();
    let err = Dataset::from_safetensors(&p, &classifier(&[2]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`id`"), "{err}");

    let p = dir.path().join("empty.safetensors");
    write_tensors(
        &p,
        &[("x", &Tensor::zeros(vec![0, 2])), ("y", &Tensor::i32(vec![0], vec![]))],
    )
    .unwrap();
    let err = Dataset::from_safetensors(&p, &classifier(&[2]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no examples"), "{err}");

    let mut g = Graph::new();
    input(&mut g, "x", DType::F32, vec![Dim::var("N"), Dim::var("N")]);
    let err = Dataset::from_safetensors(&p, &g).unwrap_err().to_string();
    assert!(err.contains("`x`") && err.contains("batch size variable N"), "{err}");
}

#[test]
fn dataset_new_checks_counts() {
    let a = Tensor::zeros(vec![3, 2]);
    let b = Tensor::zeros(vec![2]);
    assert!(Dataset::new(vec![("a".into(), a.clone()), ("b".into(), b)]).is_err());
    assert!(Dataset::new(vec![]).is_err());
    let d = Dataset::new(vec![("a".into(), a)]).unwrap();
    assert_eq!(d.len(), 3);
}
