//! Every bad call is refused with its own `Error` variant — the same for the JIT and the
//! interpreter — before any code runs (the caller's output buffers stay untouched).

use nnc::{
    Arg, Backend, BindError, CallError, DType, Error, Model, OptLevel, Optimizer, Options, Session, Tensor, Workspace,
};

const MODEL: &str = "
model clf {
    input x: [N, 4]
    input y: i32[N]
    param W: [4, 3]
    param b: [3]
    let logits = x @ W + b
    output logits
    output probs = softmax(logits, axis=1)
    loss = cross_entropy(logits, y)
}
model no_loss {
    input x: [N, 2]
    output twice = 2 * x
}
";

/// The buffers of one forward call at N = 2.
struct Call {
    x: Vec<f32>,
    y: Vec<i32>,
    w: Vec<f32>,
    b: Vec<f32>,
    logits: Vec<f32>,
    probs: Vec<f32>,
}

const UNTOUCHED: f32 = 12345.0;

impl Call {
    fn good() -> Call {
        Call {
            x: vec![0.5; 8],
            y: vec![0, 2],
            w: vec![0.1; 12],
            b: vec![0.0; 3],
            logits: vec![UNTOUCHED; 6],
            probs: vec![UNTOUCHED; 6],
        }
    }

    /// The call as the test case shapes it: `inputs`, `params` and `outputs` may be edited.
    fn run(
        &mut self,
        model: &Model,
        edit: impl FnOnce(&mut Vec<Arg>, &mut Vec<&[f32]>, &mut Vec<&mut [f32]>),
    ) -> Result<Option<f32>, Error> {
        let sizes = model.sizes(&[("N", 2)]).unwrap();
        let instance = model.forward().unwrap().instantiate(&sizes).unwrap();
        let mut inputs = vec![Arg::F32(&self.x), Arg::I32(&self.y)];
        let mut params: Vec<&[f32]> = vec![&self.w, &self.b];
        let mut outputs: Vec<&mut [f32]> = vec![&mut self.logits, &mut self.probs];
        edit(&mut inputs, &mut params, &mut outputs);
        instance.call(&mut Workspace::new(), &inputs, &params, &mut outputs)
    }

    fn untouched(&self) -> bool {
        self.logits.iter().chain(&self.probs).all(|&v| v == UNTOUCHED)
    }
}

fn backends() -> [(&'static str, Options); 3] {
    [
        ("jit", Options::default()),
        (
            "jit -O0",
            Options {
                opt_level: OptLevel::O0,
                ..Options::default()
            },
        ),
        (
            "interpreter",
            Options {
                backend: Backend::Interpreter,
                ..Options::default()
            },
        ),
    ]
}

fn model(options: &Options) -> Model {
    Model::from_source(MODEL, "clf.nn", Some("clf"), options.clone()).unwrap()
}

type Edit = fn(&mut Vec<Arg>, &mut Vec<&[f32]>, &mut Vec<&mut [f32]>);
type Expect = fn(&Error) -> bool;

/// One line per refused call: what is wrong, and the error it must give.
#[test]
fn bad_calls_are_refused_with_their_variant_on_every_backend() {
    static SHORT_X: [f32; 7] = [0.0; 7];
    static LONG_B: [f32; 4] = [0.0; 4];
    static X_AS_I32: [i32; 8] = [0; 8];
    static Y_AS_F32: [f32; 2] = [0.0; 2];
    static NEGATIVE: [i32; 2] = [1, -1];
    static TOO_BIG: [i32; 2] = [3, 0];
    let cases: Vec<(&str, Edit, Expect)> = vec![
        (
            "short input",
            |i, _, _| i[0] = Arg::F32(&SHORT_X),
            |e| matches!(e, Error::Call(CallError::Length { name, expected: 8, found: 7 }) if name == "x"),
        ),
        (
            "long param",
            |_, p, _| p[1] = &LONG_B,
            |e| matches!(e, Error::Call(CallError::Length { name, expected: 3, found: 4 }) if name == "b"),
        ),
        (
            "short output",
            |_, _, o| {
                let last = o.pop().unwrap();
                o.push(&mut last[..5]);
            },
            |e| matches!(e, Error::Call(CallError::Length { name, expected: 6, found: 5 }) if name == "probs"),
        ),
        (
            "missing input",
            |i, _, _| {
                i.pop();
            },
            |e| {
                matches!(
                    e,
                    Error::Call(CallError::Count {
                        what: "inputs",
                        expected: 2,
                        found: 1
                    })
                )
            },
        ),
        (
            "extra param",
            |_, p, _| p.push(&LONG_B),
            |e| {
                matches!(
                    e,
                    Error::Call(CallError::Count {
                        what: "params",
                        expected: 2,
                        found: 3
                    })
                )
            },
        ),
        (
            "missing output",
            |_, _, o| {
                o.pop();
            },
            |e| {
                matches!(
                    e,
                    Error::Call(CallError::Count {
                        what: "outputs",
                        expected: 2,
                        found: 1
                    })
                )
            },
        ),
        (
            "i32 where f32 is expected",
            |i, _, _| i[0] = Arg::I32(&X_AS_I32),
            |e| matches!(e, Error::Call(CallError::DType { name, expected: DType::F32, found: DType::I32 }) if name == "x"),
        ),
        (
            "f32 where i32 is expected",
            |i, _, _| i[1] = Arg::F32(&Y_AS_F32),
            |e| matches!(e, Error::Call(CallError::DType { name, expected: DType::I32, found: DType::F32 }) if name == "y"),
        ),
        (
            "negative label",
            |i, _, _| i[1] = Arg::I32(&NEGATIVE),
            |e| matches!(e, Error::Call(CallError::Label { name, index: 1, value: -1, classes: 3 }) if name == "y"),
        ),
        (
            "label = classes",
            |i, _, _| i[1] = Arg::I32(&TOO_BIG),
            |e| matches!(e, Error::Call(CallError::Label { name, index: 0, value: 3, classes: 3 }) if name == "y"),
        ),
    ];
    for (backend, options) in backends() {
        let m = model(&options);
        let mut good = Call::good();
        assert!(
            good.run(&m, |_, _, _| {}).unwrap().is_some(),
            "{backend}: the unedited call works"
        );
        assert!(!good.untouched());
        for (what, edit, expected) in &cases {
            let mut call = Call::good();
            match call.run(&m, edit) {
                Err(e) if expected(&e) => {}
                other => panic!("{backend}, {what}: got {other:?}"),
            }
            assert!(call.untouched(), "{backend}, {what}: outputs were written");
        }
    }
}

#[test]
fn training_steps_are_refused_the_same_way() {
    for (backend, options) in backends() {
        let m = model(&options);
        let sizes = m.sizes(&[("N", 2)]).unwrap();
        let step = m.train_step(Optimizer::adam(0.01)).unwrap();
        let train = step.instantiate(&sizes).unwrap();
        let (x, mut w, mut b) = (vec![0.5f32; 8], vec![0.1f32; 12], vec![0.0f32; 3]);
        let mut state: Vec<Vec<f32>> = step
            .init_state(&sizes)
            .unwrap()
            .iter()
            .map(|t| t.as_f32().unwrap().to_vec())
            .collect();
        assert_eq!(state.len(), 4);
        let mut ws = Workspace::new();
        let mut run = |y: &[i32], n_state: usize, w: &mut [f32], b: &mut [f32]| {
            let mut s: Vec<&mut [f32]> = state.iter_mut().take(n_state).map(|v| v.as_mut_slice()).collect();
            train.step(&mut ws, 1, &[Arg::F32(&x), Arg::I32(y)], &mut [w, b], &mut s)
        };
        let before = w.clone();
        assert!(
            matches!(
                run(&[0, 5], 4, &mut w, &mut b),
                Err(Error::Call(CallError::Label { value: 5, .. }))
            ),
            "{backend}"
        );
        assert!(
            matches!(
                run(&[-2, 0], 4, &mut w, &mut b),
                Err(Error::Call(CallError::Label { value: -2, .. }))
            ),
            "{backend}"
        );
        assert!(
            matches!(
                run(&[0, 1], 3, &mut w, &mut b),
                Err(Error::Call(CallError::Count {
                    what: "state",
                    expected: 4,
                    found: 3
                }))
            ),
            "{backend}"
        );
        assert!(
            matches!(
                run(&[0, 1, 2], 4, &mut w, &mut b),
                Err(Error::Call(CallError::Length { .. }))
            ),
            "{backend}"
        );
        assert!(
            matches!(run(&[0, 1], 4, &mut w[..11], &mut b), Err(Error::Call(CallError::Length { name, .. })) if name == "W"),
            "{backend}"
        );
        assert_eq!(w, before, "{backend}: refused steps leave the params alone");
        assert!(run(&[0, 1], 4, &mut w, &mut b).is_ok(), "{backend}");
        assert_ne!(w, before, "{backend}: a step updates the params");

        // The step's own function updates its params: a read-only call is refused.
        let inner = train.instance();
        let pr: Vec<&[f32]> = vec![&w, &b, &w, &w, &b, &b];
        let scalars = [1.0f32, 1.0];
        let r = inner.call(
            &mut ws,
            &[
                Arg::F32(&x),
                Arg::I32(&[0, 1]),
                Arg::F32(&scalars[..1]),
                Arg::F32(&scalars[1..]),
            ],
            &pr,
            &mut [],
        );
        assert!(matches!(r, Err(Error::ParamsReadOnly)), "{backend}: {r:?}");
    }
}

#[test]
fn unknown_names_and_missing_sizes_are_typed_errors() {
    for (backend, options) in backends() {
        let m = model(&options);
        let unknown = |e: Error, kind: &str, name: &str| match e {
            Error::UnknownName {
                kind: k,
                name: n,
                known,
            } => {
                assert_eq!((k, n.as_str()), (kind, name), "{backend}");
                assert!(!known.is_empty());
            }
            other => panic!("{backend}: {other:?}"),
        };
        unknown(m.sizes(&[("N", 2), ("M", 3)]).unwrap_err(), "size variable", "M");
        unknown(m.output_index("loss").unwrap_err(), "output", "loss");
        unknown(m.input_index("z").unwrap_err(), "input", "z");
        unknown(m.param_index("W2").unwrap_err(), "param", "W2");
        unknown(
            m.gradients(false).unwrap().output_index("grad.x").unwrap_err(),
            "output",
            "grad.x",
        );
        let sizes = m.sizes(&[("N", 2)]).unwrap();
        let session = Session::new(&m, &sizes, 0).unwrap();
        unknown(session.sizes_with(&[("n", 4)]).unwrap_err(), "size variable", "n");
        let out = session_forward(&m);
        unknown(out.f32("nope").map(|_| ()).unwrap_err(), "output", "nope");
        assert!(
            matches!(m.sizes(&[]), Err(Error::Sizes(BindError::Unbound(v))) if &*v == "N"),
            "{backend}"
        );
        assert!(matches!(
            Model::from_source(MODEL, "clf.nn", Some("nope"), options.clone()),
            Err(Error::Model(d)) if d.diagnostics[0].message.contains("no model named `nope`")
        ));
        assert!(
            matches!(
                Model::from_source(MODEL, "clf.nn", None, options.clone()),
                Err(Error::Model(_))
            ),
            "two models: one must be named"
        );
    }
}

fn session_forward(m: &Model) -> nnc::Outputs {
    let sizes = m.sizes(&[("N", 2)]).unwrap();
    let mut s = Session::new(m, &sizes, 0).unwrap();
    s.forward(&sizes, &[Arg::F32(&[0.0; 8]), Arg::I32(&[0, 1])]).unwrap()
}

#[test]
fn models_without_loss_cannot_be_differentiated_or_trained() {
    for (backend, options) in backends() {
        let m = Model::from_source(MODEL, "clf.nn", Some("no_loss"), options).unwrap();
        assert!(
            matches!(m.gradients(true), Err(Error::NoLoss { model }) if model == "no_loss"),
            "{backend}"
        );
        assert!(
            matches!(m.gradients_only(false), Err(Error::NoLoss { .. })),
            "{backend}"
        );
        assert!(
            matches!(m.train_step(Optimizer::sgd(0.1)), Err(Error::NoLoss { .. })),
            "{backend}"
        );
        let sizes = m.sizes(&[("N", 1)]).unwrap();
        let mut s = Session::new(&m, &sizes, 0).unwrap();
        assert!(matches!(
            s.set_optimizer(Optimizer::sgd(0.1)),
            Err(Error::NoLoss { .. })
        ));
        assert!(
            matches!(s.step(&[Arg::F32(&[1.0, 2.0])]), Err(Error::Usage(_))),
            "no optimiser set"
        );
        let out = s.forward(&sizes, &[Arg::F32(&[1.0, 2.0])]).unwrap();
        assert_eq!(out.f32("twice").unwrap(), [2.0, 4.0]);
        assert_eq!(out.loss, None);
    }
}

#[test]
fn tensors_and_params_of_the_wrong_shape_or_type_are_refused() {
    for (backend, options) in backends() {
        let m = model(&options);
        let sizes = m.sizes(&[("N", 2)]).unwrap();
        let mut params = m.init_params(&sizes, 0).unwrap();
        let f = m.forward().unwrap();
        let x = Tensor::f32(vec![2, 4], vec![0.0; 8]);
        let y = Tensor::i32(vec![3], vec![0; 3]);
        // N is 2 from x but 3 from y.
        let r = f.call_tensors(&[x.clone(), y], &params);
        assert!(
            matches!(r, Err(Error::Sizes(BindError::Conflict { .. }))),
            "{backend}: {r:?}"
        );
        let y = Tensor::i32(vec![2], vec![0, 1]);
        let r = f.call_tensors(&[x.clone(), Tensor::f32(vec![2], vec![0.0; 2])], &params);
        assert!(
            matches!(&r, Err(Error::Call(CallError::DType { name, .. })) if name == "y"),
            "{backend}: {r:?}"
        );
        let r = f.call_tensors(std::slice::from_ref(&x), &params);
        assert!(
            matches!(r, Err(Error::Call(CallError::Count { what: "inputs", .. }))),
            "{backend}: {r:?}"
        );
        params[1] = Tensor::i32(vec![3], vec![0; 3]);
        let r = f.call_tensors(&[x.clone(), y.clone()], &params);
        assert!(
            matches!(&r, Err(Error::Call(CallError::DType { name, .. })) if name == "b"),
            "{backend}: {r:?}"
        );
        let r = Session::with_params(&m, &sizes, params.clone());
        assert!(
            matches!(r, Err(Error::Call(CallError::DType { name, .. })) if name == "b"),
            "{backend}"
        );
        params[1] = Tensor::zeros(vec![4]);
        let r = Session::with_params(&m, &sizes, params.clone());
        assert!(
            matches!(r, Err(Error::Call(CallError::Shape { name, expected, found })) if name == "b" && expected == [3] && found == [4])
        );
        let r = Session::with_params(&m, &sizes, params[..1].to_vec());
        assert!(matches!(
            r,
            Err(Error::Call(CallError::Count {
                what: "params",
                expected: 2,
                found: 1
            }))
        ));
        let r = m.save_params("/nonexistent-dir/p.safetensors", &params[..1]);
        assert!(matches!(r, Err(Error::Call(CallError::Count { .. }))));
    }
}
