//! The MNIST classifier's training step through the JIT, checked against a direct f64
//! computation of the same forward, backward and SGD update.

mod jit_util;
use jit_util::*;
use nnc::runtime::{Executable, OptLevel};
use nnc::tensor::Tensor;

/// f64 reference of one SGD step: returns (loss, logits, new params).
fn reference(x: &[f32], y: &[i32], params: &[Tensor], lr: f64) -> (f64, Vec<f64>, Vec<Vec<f64>>) {
    let n = y.len();
    let sizes = [784usize, 128, 64, 10];
    let p: Vec<Vec<f64>> = params
        .iter()
        .map(|t| t.as_f32().unwrap().iter().map(|&v| v as f64).collect())
        .collect();
    let mut acts = vec![x.iter().map(|&v| v as f64).collect::<Vec<f64>>()];
    let mut pres = Vec::new();
    for l in 0..3 {
        let (k, m) = (sizes[l], sizes[l + 1]);
        let a = &acts[l];
        let mut z = vec![0.0; n * m];
        for i in 0..n {
            for j in 0..m {
                let mut s = p[2 * l + 1][j];
                for q in 0..k {
                    s += a[i * k + q] * p[2 * l][q * m + j];
                }
                z[i * m + j] = s;
            }
        }
        pres.push(z.clone());
        acts.push(if l < 2 {
            z.iter().map(|v| v.max(0.0)).collect()
        } else {
            z
        });
    }
    let logits = acts[3].clone();
    let mut loss = 0.0;
    let mut d = vec![0.0; n * 10];
    for i in 0..n {
        let row = &logits[i * 10..(i + 1) * 10];
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = row.iter().map(|v| (v - m).exp()).sum();
        loss -= row[y[i] as usize] - m - z.ln();
        for j in 0..10 {
            let pj = (row[j] - m).exp() / z;
            d[i * 10 + j] = (pj - if j == y[i] as usize { 1.0 } else { 0.0 }) / n as f64;
        }
    }
    loss /= n as f64;
    let mut newp = p.clone();
    for l in (0..3).rev() {
        let (k, m) = (sizes[l], sizes[l + 1]);
        let a = &acts[l];
        for j in 0..m {
            let db: f64 = (0..n).map(|i| d[i * m + j]).sum();
            newp[2 * l + 1][j] -= lr * db;
            for q in 0..k {
                let dw: f64 = (0..n).map(|i| a[i * k + q] * d[i * m + j]).sum();
                newp[2 * l][q * m + j] -= lr * dw;
            }
        }
        if l > 0 {
            let mut dh = vec![0.0; n * k];
            for i in 0..n {
                for q in 0..k {
                    let s: f64 = (0..m).map(|j| d[i * m + j] * p[2 * l][q * m + j]).sum();
                    dh[i * k + q] = if pres[l - 1][i * k + q] > 0.0 { s } else { 0.0 };
                }
            }
            d = dh;
        }
    }
    (loss, logits, newp)
}

#[test]
fn mlp_training_step_matches_a_direct_computation() {
    let g = mlp_train_graph(0.1);
    let n = 37; // not a multiple of the vector width
    let x: Vec<f32> = data(n * 784, 5).iter().map(|v| (v + 2.0) / 4.0).collect();
    let y: Vec<i32> = (0..n).map(|i| ((i * 7) % 10) as i32).collect();
    let params = mlp_params();
    let (loss, logits, newp) = reference(&x, &y, &params, 0.1);
    for level in [OptLevel::O0, OptLevel::O1] {
        let exe = Executable::compile(&g, &bindings(&[("N", n)]), &opts(level)).unwrap();
        let mut ps = params.clone();
        let r = exe
            .run_tensors(&[t(&[n, 784], &x), Tensor::i32(vec![n], y.clone())], &mut ps)
            .unwrap();
        assert!(
            (r.loss.unwrap() as f64 - loss).abs() < 1e-5 * (1.0 + loss.abs()),
            "{level:?} loss"
        );
        let lf: Vec<f32> = logits.iter().map(|&v| v as f32).collect();
        assert_close(r.outputs[0].as_f32().unwrap(), &lf, 1e-5, "logits");
        for (i, p) in ps.iter().enumerate() {
            let want: Vec<f32> = newp[i].iter().map(|&v| v as f32).collect();
            assert_close(p.as_f32().unwrap(), &want, 1e-5, &format!("{level:?} param {i}"));
        }
        if level == OptLevel::O1 {
            let s = exe.stats();
            assert!(s.kernels < 30, "fused: {} kernels", s.kernels);
        }
    }
}

#[test]
#[ignore = "prints the schedule"]
fn print_mlp_schedule() {
    let g = mlp_train_graph(0.1);
    let exe = Executable::compile(&g, &bindings(&[("N", 64)]), &opts(OptLevel::O1)).unwrap();
    println!("{}", exe.schedule());
    println!("{}", exe.stats());
}
