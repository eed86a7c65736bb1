//! The optimisers' step graphs, evaluated by the reference interpreter, against the
//! update rules computed by hand in f64.

use nnc::interp;
use nnc::ir::{Binary, Dim, Graph, Init, Op, Origin, Reduce, Shape, TensorType, Unary};
use nnc::tensor::Tensor;
use nnc::train::{build_step, Optimizer};

/// loss = sum((x * w)^2) / 2 for a param w: [3] and input x: [3]; grad = x^2 * w.
fn quadratic() -> Graph {
    let mut g = Graph::new();
    let x = g.add_input("x", TensorType::f32(Shape::lit(&[3])), None);
    let w = g.add_param("w", Shape::lit(&[3]), Init::Const(0.0), None);
    let o = Origin::default();
    let xw = g.add(Op::Binary(Binary::Mul), &[x, w], o).unwrap();
    let sq = g.add(Op::Unary(Unary::Pow(nnc::ir::F64(2.0))), &[xw], o).unwrap();
    let s = g
        .add(
            Op::Reduce {
                kind: Reduce::Sum,
                axes: vec![0],
            },
            &[sq],
            o,
        )
        .unwrap();
    let half = g
        .add(
            Op::Const {
                value: nnc::ir::F64(0.5),
                per: Dim::one(),
            },
            &[],
            o,
        )
        .unwrap();
    let loss = g.add(Op::Binary(Binary::Mul), &[s, half], o).unwrap();
    g.loss = Some(loss);
    g
}

const X: [f64; 3] = [1.0, -2.0, 0.5];

fn run_steps(opt: Optimizer, steps: u64) -> Vec<f64> {
    let step = build_step(&quadratic(), &opt).unwrap();
    nnc::ir::verify(&step.graph, nnc::ir::Expect { grads_expanded: true }).unwrap();
    assert_eq!(step.model_inputs, 1);
    assert_eq!(step.model_params, 1);
    let mut params: Vec<Tensor> = step.graph.params.iter().map(|_| Tensor::zeros(vec![3])).collect();
    params[0] = Tensor::f32(vec![3], vec![0.3, 0.7, -1.1]);
    for t in 1..=steps {
        let mut inputs = vec![Tensor::f32(vec![3], X.iter().map(|&v| v as f32).collect())];
        inputs.extend(opt.step_inputs(t).into_iter().map(|v| Tensor::f32(vec![], vec![v])));
        let values = interp::eval::<f32>(&step.graph, &Default::default(), &inputs, &params).unwrap();
        for (i, v) in values.updates {
            params[i] = v.to_tensor();
        }
    }
    params[0].as_f32().unwrap().iter().map(|&v| v as f64).collect()
}

fn reference(opt: Optimizer, steps: u64) -> Vec<f64> {
    let mut w = [0.3, 0.7, -1.1];
    let (mut m, mut v) = ([0.0f64; 3], [0.0f64; 3]);
    for t in 1..=steps {
        for i in 0..3 {
            let g = X[i] * X[i] * w[i];
            match opt {
                Optimizer::Sgd { lr } => w[i] -= lr * g,
                Optimizer::Momentum { lr, momentum } => {
                    m[i] = momentum * m[i] + g;
                    w[i] -= lr * m[i];
                }
                Optimizer::Adam { lr, beta1, beta2, eps } => {
                    m[i] = beta1 * m[i] + (1.0 - beta1) * g;
                    v[i] = beta2 * v[i] + (1.0 - beta2) * g * g;
                    let c1 = 1.0 - beta1.powi(t as i32);
                    let c2 = 1.0 - beta2.powi(t as i32);
                    w[i] -= lr / c1 * m[i] / (v[i].sqrt() / c2.sqrt() + eps);
                }
            }
        }
    }
    w.to_vec()
}

#[test]
fn every_optimizer_matches_its_update_rule() {
    for opt in [Optimizer::sgd(0.1), Optimizer::momentum(0.05), Optimizer::adam(0.01)] {
        let got = run_steps(opt, 7);
        let want = reference(opt, 7);
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g - w).abs() <= 1e-5 + 1e-4 * w.abs(),
                "{opt}: got {got:?}, want {want:?}"
            );
        }
    }
}

#[test]
fn state_tensors_are_named_after_their_param() {
    let step = build_step(&quadratic(), &Optimizer::adam(0.001)).unwrap();
    let names: Vec<&str> = step.graph.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["w", "adam.m.w", "adam.v.w"]);
    assert_eq!(step.graph.updates.len(), 3);
    let inputs: Vec<&str> = step.graph.inputs.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(inputs, ["x", "adam.step_size", "adam.inv_sqrt_c2"]);
}

#[test]
fn a_model_without_loss_has_no_training_step() {
    let mut g = quadratic();
    g.loss = None;
    assert!(build_step(&g, &Optimizer::sgd(0.1)).is_err());
}
