//! The API adds no allocation to a training step: `Session::step` and
//! `TrainInstance::step` allocate exactly what the runtime's own call does.
//! (One test in this binary: the allocation counter is global.)

use nnc::{Arg, Model, Optimizer, Options, Session, Workspace};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_of(mut f: impl FnMut()) -> usize {
    f(); // warm-up: workspaces grow on first use
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    f();
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

const MODEL: &str = "
model clf {
    input x: [N, 4]
    input y: i32[N]
    param W: [4, 3]
    param b: [3]
    loss = cross_entropy(x @ W + b, y)
}
";

#[test]
fn steps_allocate_only_what_the_runtime_call_does() {
    let model = Model::from_source(MODEL, "clf.nn", None, Options::default()).unwrap();
    let sizes = model.sizes(&[("N", 2)]).unwrap();
    let (x, y) = (vec![0.5f32; 8], vec![0i32, 2]);
    let step = model.train_step(Optimizer::adam(0.01)).unwrap();
    let train = step.instantiate(&sizes).unwrap();
    let exe = train.instance().executable().unwrap();
    let mut p: Vec<Vec<f32>> = vec![vec![0.1; 12], vec![0.0; 3]];
    let mut s: Vec<Vec<f32>> = vec![vec![0.0; 12], vec![0.0; 12], vec![0.0; 3], vec![0.0; 3]];
    let mut ws = Workspace::new();

    // The runtime's call with every list prepared beforehand.
    let scalars = [0.01f32, 1.0];
    let args = [
        Arg::F32(&x),
        Arg::I32(&y),
        Arg::F32(&scalars[..1]),
        Arg::F32(&scalars[1..]),
    ];
    let mut all: Vec<Vec<f32>> = p.iter().chain(&s).cloned().collect();
    let runtime = allocations_of(|| {
        let mut refs: [&mut [f32]; 6] = {
            let [a, b, c, d, e, f] = all.as_mut_slice() else {
                unreachable!()
            };
            [a, b, c, d, e, f]
        };
        exe.run(&mut ws, &args, &mut refs, &mut []).unwrap();
    });

    let mut t = 0;
    let api = allocations_of(|| {
        t += 1;
        let [w, b] = p.as_mut_slice() else { unreachable!() };
        let [s0, s1, s2, s3] = s.as_mut_slice() else {
            unreachable!()
        };
        train
            .step(
                &mut ws,
                t,
                &[Arg::F32(&x), Arg::I32(&y)],
                &mut [w, b],
                &mut [s0, s1, s2, s3],
            )
            .unwrap();
    });
    assert_eq!(api, runtime, "TrainInstance::step adds allocations");

    let mut session = Session::new(&model, &sizes, 0).unwrap();
    session.set_optimizer(Optimizer::adam(0.01)).unwrap();
    let session_step = allocations_of(|| {
        session.step(&[Arg::F32(&x), Arg::I32(&y)]).unwrap();
    });
    assert_eq!(session_step, runtime, "Session::step adds allocations");

    // The forward function at the session's sizes: also nothing beyond the runtime call.
    let forward = model.forward().unwrap().instantiate(&sizes).unwrap();
    let fexe = forward.executable().unwrap();
    let params: Vec<&[f32]> = session.params().iter().map(|t| t.as_f32().unwrap()).collect();
    let inputs = [Arg::F32(&x), Arg::I32(&y)];
    let runtime_ref = allocations_of(|| {
        fexe.run_ref(&mut ws, &inputs, &params, &mut []).unwrap();
    });
    let mut session_loss = None;
    let session_forward = allocations_of(|| {
        session_loss = session.forward_into(&sizes, &inputs, &mut []).unwrap();
    });
    assert_eq!(session_forward, runtime_ref, "Session::forward_into adds allocations");
    assert!(session_loss.is_some_and(f32::is_finite));
}
