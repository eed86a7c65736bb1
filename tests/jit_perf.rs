//! Timings, printed only (no assertions on time): run with
//! `cargo test --release --test jit_perf -- --ignored --nocapture`.

mod jit_util;
use jit_util::*;
use nnc::runtime::{Arg, Executable, OptLevel, Workspace};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[test]
#[ignore = "timing"]
fn mlp_training_step_time() {
    let g = mlp_train_graph(0.01);
    for &n in &[64usize, 256, 1024] {
        for level in [OptLevel::O1, OptLevel::O0] {
            let t0 = Instant::now();
            let mut o = opts(level);
            o.verify = false;
            let exe = Executable::compile(&g, &bindings(&[("N", n)]), &o).unwrap();
            let compile = t0.elapsed().as_secs_f64() * 1e3;
            let x: Vec<f32> = data(n * 784, 5).iter().map(|v| (v + 2.0) / 4.0).collect();
            let y: Vec<i32> = (0..n).map(|i| (i % 10) as i32).collect();
            let mut params: Vec<Vec<f32>> = mlp_params().into_iter().map(|t| t.as_f32().unwrap().to_vec()).collect();
            let mut logits = vec![0.0f32; n * 10];
            let mut ws = Workspace::new();
            let mut times = Vec::new();
            for i in 0..300 {
                let mut ps: Vec<&mut [f32]> = params.iter_mut().map(|p| p.as_mut_slice()).collect();
                let t = Instant::now();
                exe.run(&mut ws, &[Arg::F32(&x), Arg::I32(&y)], &mut ps, &mut [&mut logits])
                    .unwrap();
                if i >= 50 {
                    times.push(t.elapsed().as_secs_f64() * 1e3);
                }
            }
            let min = times.iter().cloned().fold(f64::INFINITY, f64::min);
            println!(
                "batch {n:5} {level:?}: step median {:.3} ms, min {:.3} ms, compile {compile:.1} ms, {} kernels",
                median(times),
                min,
                exe.stats().kernels
            );
        }
    }
}

#[test]
#[ignore = "timing"]
fn matmul_kernel_gflops() {
    for &(m, k, n) in &[
        (64usize, 784usize, 128usize),
        (784, 64, 128),
        (64, 128, 784),
        (1024, 784, 128),
        (784, 1024, 128),
        (64, 64, 10),
        (256, 256, 256),
    ] {
        let a = data(m * k, 1);
        let b = data(k * n, 2);
        let mut c = vec![0.0f32; m * n];
        let mut times = Vec::new();
        for _ in 0..200 {
            let t = Instant::now();
            unsafe {
                nnc::kernels::matmul(
                    m,
                    k,
                    n,
                    nnc::kernels::MatRef {
                        ptr: a.as_ptr(),
                        rs: k as isize,
                        cs: 1,
                    },
                    nnc::kernels::MatRef {
                        ptr: b.as_ptr(),
                        rs: n as isize,
                        cs: 1,
                    },
                    c.as_mut_ptr(),
                    n as isize,
                    1,
                    false,
                    1.0,
                    1,
                )
            };
            times.push(t.elapsed().as_secs_f64());
        }
        let best = times.iter().cloned().fold(f64::INFINITY, f64::min);
        println!(
            "{m}x{k}x{n}: {:.1} GFLOP/s (median {:.1} us)",
            2.0 * (m * k * n) as f64 / best / 1e9,
            median(times) * 1e6
        );
    }
}

#[test]
#[ignore = "timing"]
fn mlp_kernel_profile() {
    let g = mlp_train_graph(0.01);
    for &n in &[64usize, 1024] {
        let mut o = opts(OptLevel::O1);
        o.verify = false;
        let exe = Executable::compile_profiled(&g, &bindings(&[("N", n)]), &o).unwrap();
        let x: Vec<f32> = data(n * 784, 5).iter().map(|v| (v + 2.0) / 4.0).collect();
        let y: Vec<i32> = (0..n).map(|i| (i % 10) as i32).collect();
        let mut params: Vec<Vec<f32>> = mlp_params().into_iter().map(|t| t.as_f32().unwrap().to_vec()).collect();
        let mut logits = vec![0.0f32; n * 10];
        let mut ws = Workspace::new();
        let runs = 100;
        let mut best = vec![f64::INFINITY; exe.stats().kernels];
        for _ in 0..runs {
            let mut ps: Vec<&mut [f32]> = params.iter_mut().map(|p| p.as_mut_slice()).collect();
            exe.run(&mut ws, &[Arg::F32(&x), Arg::I32(&y)], &mut ps, &mut [&mut logits])
                .unwrap();
            for (b, t) in best.iter_mut().zip(exe.profile()) {
                *b = b.min(t);
            }
        }
        println!(
            "batch {n}: total of per-kernel minima {:.1} us",
            best.iter().sum::<f64>() * 1e6
        );
        for (i, (k, t)) in exe.schedule().kernels.iter().zip(&best).enumerate() {
            let what = match &k.kind {
                nnc::opt::schedule::KernelKind::MatMul(m) => format!("matmul {}x{}x{}", m.m, m.k, m.n),
                nnc::opt::schedule::KernelKind::Loop(l) => format!("loop {:?} {:?}", l.space, l.reduced),
            };
            println!("  k{i:2} {:8.1} us  {what}", t * 1e6);
        }
    }
}
