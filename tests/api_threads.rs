//! One compiled model shared by several threads, and the memory limit.

use nnc::{
    Arg, Backend, Error, Function, Instance, Model, Optimizer, Options, Session, TrainInstance, TrainStep, Workspace,
};

const MLP: &str = "
model mlp {
    input x: [N, 32]
    input y: i32[N]
    param W1: [32, 64] = he_normal
    param b1: [64] = 0.1
    param W2: [64, 10]
    param b2: [10]
    let logits = relu(x @ W1 + b1) @ W2 + b2
    output logits
    output probs = softmax(logits, axis=1)
    loss = cross_entropy(logits, y)
}
";

#[allow(dead_code)]
fn compiled_things_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Model>();
    assert_send_sync::<Function>();
    assert_send_sync::<Instance>();
    assert_send_sync::<TrainStep>();
    assert_send_sync::<TrainInstance>();
    assert_send_sync::<Error>();
    fn assert_send<T: Send>() {}
    assert_send::<Workspace>();
    assert_send::<Session>();
}

fn inputs(n: usize, seed: usize) -> (Vec<f32>, Vec<i32>) {
    let x = (0..n * 32)
        .map(|i| (((i * 7919 + seed * 104729) % 1000) as f32 / 500.0) - 1.0)
        .collect();
    let y = (0..n).map(|i| ((i * 31 + seed) % 10) as i32).collect();
    (x, y)
}

fn run(
    instance: &Instance,
    params: &[&[f32]],
    x: &[f32],
    y: &[i32],
    ws: &mut Workspace,
) -> (Vec<Vec<f32>>, Option<f32>) {
    let mut bufs = instance.output_buffers();
    let mut outs: Vec<&mut [f32]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
    let loss = instance
        .call(ws, &[Arg::F32(x), Arg::I32(y)], params, &mut outs)
        .unwrap();
    (bufs, loss)
}

fn four_threads_agree_with_one(options: Options) {
    let model = Model::from_source(MLP, "mlp.nn", None, options).unwrap();
    let sizes = model.sizes(&[("N", 48)]).unwrap();
    let params = model.init_params(&sizes, 1).unwrap();
    let p: Vec<&[f32]> = params.iter().map(|t| t.as_f32().unwrap()).collect();
    let instance = model.forward().unwrap().instantiate(&sizes).unwrap();
    // Each thread its own batch, so a mix-up between threads would show.
    let batches: Vec<(Vec<f32>, Vec<i32>)> = (0..4).map(|s| inputs(48, s)).collect();
    let alone: Vec<_> = batches
        .iter()
        .map(|(x, y)| run(&instance, &p, x, y, &mut Workspace::new()))
        .collect();
    let together: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = batches
            .iter()
            .map(|(x, y)| {
                let (instance, p) = (&instance, &p);
                s.spawn(move || {
                    let mut ws = Workspace::new();
                    // Several calls per thread so that the calls overlap in time.
                    let mut last = None;
                    for _ in 0..20 {
                        last = Some(run(instance, p, x, y, &mut ws));
                    }
                    last.unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(together, alone);
    assert_ne!(alone[0], alone[1], "different batches give different outputs");
}

#[test]
fn forward_from_four_threads_on_one_jit_instance() {
    four_threads_agree_with_one(Options {
        threads: 1,
        ..Options::default()
    });
}

#[test]
fn forward_from_four_threads_on_one_interpreter_instance() {
    four_threads_agree_with_one(Options {
        backend: Backend::Interpreter,
        ..Options::default()
    });
}

/// Threads that compile at the same time (first use of a function and of a size) get one
/// shared function and agree.
#[test]
fn threads_may_compile_and_train_concurrently() {
    let model = Model::from_source(MLP, "mlp.nn", None, Options::default()).unwrap();
    let results: Vec<f32> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let model = model.clone();
                s.spawn(move || {
                    let sizes = model.sizes(&[("N", 16)]).unwrap();
                    let mut session = Session::new(&model, &sizes, 2).unwrap();
                    session.set_optimizer(Optimizer::sgd(0.05)).unwrap();
                    let (x, y) = inputs(16, 0);
                    let mut loss = 0.0;
                    for _ in 0..5 {
                        loss = session.step(&[Arg::F32(&x), Arg::I32(&y)]).unwrap();
                    }
                    loss
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results.iter().all(|&l| l == results[0] && l.is_finite()), "{results:?}");
}

#[test]
fn the_memory_limit_refuses_sizes_before_anything_is_allocated() {
    for backend in [Backend::Jit, Backend::Interpreter] {
        let options = Options {
            memory_limit: 1 << 20,
            backend,
            ..Options::default()
        };
        let model = Model::from_source(MLP, "mlp.nn", None, options).unwrap();
        let small = model.sizes(&[("N", 8)]).unwrap();
        assert!(model.forward().unwrap().instantiate(&small).is_ok(), "{backend:?}");
        // 100k examples of 32 floats: 12.8 MB of input alone.
        let big = model.sizes(&[("N", 100_000)]).unwrap();
        match model.forward().unwrap().instantiate(&big) {
            Err(Error::MemoryLimit { needed, limit, sizes }) => {
                assert_eq!(limit, 1 << 20);
                assert!(needed > 12_800_000, "{needed}");
                assert_eq!(sizes, "N=100000");
            }
            other => panic!("{backend:?}: {:?}", other.map(|_| ())),
        }
        let step = model.train_step(Optimizer::adam(0.1)).unwrap();
        assert!(
            matches!(step.instantiate(&big), Err(Error::MemoryLimit { .. })),
            "{backend:?}"
        );
        let mut session = Session::new(&model, &big, 0).unwrap();
        assert!(matches!(
            session.set_optimizer(Optimizer::sgd(0.1)),
            Err(Error::MemoryLimit { .. })
        ));
        // Sizes too large to address at all are refused too, not overflowed.
        let huge = model.sizes(&[("N", usize::MAX / 8)]).unwrap();
        assert!(model.forward().unwrap().instantiate(&huge).is_err(), "{backend:?}");
    }
}
