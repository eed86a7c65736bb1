//! Collecting the buffer lists of a call without allocating: the runtime takes slices of
//! slices, and a training step joins the caller's params and state (and the optimiser's
//! scalars) into one list per call.

/// Lists up to this long are built on the stack; longer ones fall back to a `Vec`.
const ON_STACK: usize = 32;

/// Calls `f` with the items collected into a slice: on the stack when there are at most
/// [`ON_STACK`] of them. `filler` makes the unused slots (never passed to `f`).
pub(crate) fn collect_with<T, R>(
    items: impl IntoIterator<Item = T>,
    filler: impl Fn() -> T,
    f: impl FnOnce(&mut [T]) -> R,
) -> R {
    let mut items = items.into_iter();
    let mut buf: [T; ON_STACK] = std::array::from_fn(|_| filler());
    let mut n = 0;
    for slot in buf.iter_mut() {
        match items.next() {
            Some(x) => {
                *slot = x;
                n += 1;
            }
            None => return f(&mut buf[..n]),
        }
    }
    match items.next() {
        None => f(&mut buf[..n]),
        Some(more) => {
            let mut all: Vec<T> = buf.into_iter().collect();
            all.push(more);
            all.extend(items);
            f(&mut all)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_lists_arrive_whole_and_in_order() {
        for n in [0, 1, ON_STACK - 1, ON_STACK, ON_STACK + 1, 3 * ON_STACK] {
            let got = collect_with(0..n, || usize::MAX, |s| s.to_vec());
            assert_eq!(got, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
    }

    #[test]
    fn mutable_slices_can_be_written_through() {
        let mut a = [0.0f32; 2];
        let mut b = [0.0f32; 3];
        collect_with([&mut a[..], &mut b[..]], <&mut [f32]>::default, |s| {
            for (i, x) in s.iter_mut().enumerate() {
                x.fill(i as f32 + 1.0);
            }
        });
        assert_eq!((a, b), ([1.0; 2], [2.0; 3]));
    }
}
