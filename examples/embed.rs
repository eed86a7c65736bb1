//! Trains the seed model (`examples/mnist_mlp.nn`) on the bundled MNIST subset from Rust
//! and prints the test accuracy: `cargo run --release --example embed`.
//!
//! The batches are slices of the loaded data set, read in place by the compiled step.

use nnc::io::{load_mnist_dir, Dataset, Split};
use nnc::{Arg, Model, Optimizer, Options, Session};

const BATCH: usize = 64;
const EPOCHS: usize = 5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let model = Model::from_file(format!("{dir}/mnist_mlp.nn"), None, Options::default())?;
    let train = load_mnist_dir(format!("{dir}/data/mnist-10k"), Split::Train)?;
    let test = load_mnist_dir(format!("{dir}/data/mnist-10k"), Split::Test)?;

    let mut session = Session::new(&model, &model.sizes(&[("N", BATCH)])?, 0)?;
    session.set_optimizer(Optimizer::sgd(0.1))?;
    let (x, y) = images_and_labels(&train)?;
    for epoch in 1..=EPOCHS {
        // The files are shuffled already; a real loop would shuffle every epoch (nnc::fit).
        let mut sum = 0.0;
        for (xb, yb) in x.chunks_exact(BATCH * 784).zip(y.chunks_exact(BATCH)) {
            sum += session.step(&[Arg::F32(xb), Arg::I32(yb)])?;
        }
        println!(
            "epoch {epoch}: mean training loss {:.4}",
            sum / (y.len() / BATCH) as f32
        );
    }

    // The whole test set in one call: other sizes, the trained params.
    let (x, y) = images_and_labels(&test)?;
    let sizes = session.sizes_with(&[("N", y.len())])?;
    let out = session.forward(&sizes, &[Arg::F32(x), Arg::I32(y)])?;
    let logits = out.f32("logits")?;
    let correct = logits
        .chunks(10)
        .zip(y)
        .filter(|(row, &label)| argmax(row) == label as usize)
        .count();
    let accuracy = 100.0 * correct as f64 / y.len() as f64;
    println!(
        "test loss {:.4}, test accuracy {accuracy:.2}% ({correct} of {})",
        out.loss.unwrap_or(f32::NAN),
        y.len()
    );
    Ok(())
}

fn images_and_labels(data: &Dataset) -> Result<(&[f32], &[i32]), &'static str> {
    match data.tensors.as_slice() {
        [(_, images), (_, labels)] => Ok((
            images.as_f32().ok_or("f32 images")?,
            labels.as_i32().ok_or("i32 labels")?,
        )),
        _ => Err("an MNIST directory has images and labels"),
    }
}

fn argmax(row: &[f32]) -> usize {
    (0..row.len()).fold(0, |best, i| if row[i] > row[best] { i } else { best })
}
