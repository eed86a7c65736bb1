//! A Hessian-vector product through `grad`: the model differentiates its own gradient,
//! `hv = grad(sum(g * v), w)` with `g = grad(f, w)`, which is `H v` for the Hessian `H`
//! of `f`. The example checks it against central finite differences of `g` and checks
//! that the Hessian built from `hv` of the unit vectors is symmetric.
//! Run: `cargo run --example hessian_vector`.

use nnc::{Arg, Instance, Model, Options, Workspace};

const SOURCE: &str = "
model hvp {
    input x: [N, D]
    input t: [N]
    input v: [D]
    param w: [D] = normal(std=0.5)
    let z = x @ w
    let f = mean(softplus(z) - t * z)        // logistic regression's negative log-likelihood
    let g = grad(f, w)
    output g
    output hv = grad(sum(g * v), w)
}";

const N: usize = 32;
const D: usize = 5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model = Model::from_source(SOURCE, "hvp.nn", None, Options::default())?;
    let sizes = model.sizes(&[("N", N), ("D", D)])?;
    let instance = model.forward()?.instantiate(&sizes)?;
    let w = model.init_params(&sizes, 1)?[0].as_f32().ok_or("w is f32")?.to_vec();
    let x: Vec<f32> = (0..N * D).map(|i| ((i * 37 % 17) as f32 - 8.0) / 8.0).collect();
    let t: Vec<f32> = (0..N).map(|i| (i % 2) as f32).collect();
    let v: Vec<f32> = (0..D).map(|i| 1.0 - 0.4 * i as f32).collect();
    let mut ws = Workspace::new();
    let mut call =
        |w: &[f32], v: &[f32]| -> Result<(Vec<f32>, Vec<f32>), nnc::Error> { run(&instance, &mut ws, [&x, &t, v], w) };

    // H v from the model, and (g(w + εv) - g(w - εv)) / 2ε from its gradient.
    let (_, hv) = call(&w, &v)?;
    let eps = 1e-2f32;
    let shifted = |s: f32| -> Vec<f32> { w.iter().zip(&v).map(|(a, b)| a + s * eps * b).collect() };
    let (g_plus, _) = call(&shifted(1.0), &v)?;
    let (g_minus, _) = call(&shifted(-1.0), &v)?;
    let fd: Vec<f32> = g_plus
        .iter()
        .zip(&g_minus)
        .map(|(p, m)| (p - m) / (2.0 * eps))
        .collect();
    let scale = hv.iter().fold(0f32, |m, x| m.max(x.abs()));
    let err = hv.iter().zip(&fd).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    println!("H v                  {hv:?}");
    println!("finite differences   {fd:?}");
    println!("max difference       {err:.2e} (|H v| up to {scale:.3})");
    if scale == 0.0 || err > 1e-3 * scale + 1e-6 {
        return Err(format!("H v differs from finite differences by {err}").into());
    }

    // The Hessian, one column per unit vector: symmetric, as second derivatives are.
    let mut h = [[0f32; D]; D];
    for (j, column) in h.iter_mut().enumerate() {
        let e: Vec<f32> = (0..D).map(|i| if i == j { 1.0 } else { 0.0 }).collect();
        column.copy_from_slice(&call(&w, &e)?.1);
    }
    let asym = (0..D)
        .flat_map(|i| (0..D).map(move |j| (i, j)))
        .fold(0f32, |m, (i, j)| m.max((h[i][j] - h[j][i]).abs()));
    println!("Hessian asymmetry    {asym:.2e}");
    if asym > 1e-5 {
        return Err(format!("the Hessian is not symmetric: {asym}").into());
    }
    println!("ok");
    Ok(())
}

/// One forward call on the caller's buffers: returns `(g, hv)`.
fn run(
    instance: &Instance,
    ws: &mut Workspace,
    inputs: [&[f32]; 3],
    w: &[f32],
) -> Result<(Vec<f32>, Vec<f32>), nnc::Error> {
    let (mut g, mut hv) = (vec![0.0; D], vec![0.0; D]);
    let args = inputs.map(Arg::F32);
    instance.call(ws, &args, &[w], &mut [&mut g, &mut hv])?;
    Ok((g, hv))
}
