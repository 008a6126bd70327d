//! Garbage never traps the module: random bytes and mangled events are
//! refused with a code (or taken), the instance is never replaced, and
//! every backend (module, native, component) answers alike.

use host_harness::{Detector, HostError};
use tests::{component, file_event, native, network_event, wasm};

/// A small, seeded generator (xorshift64*), so failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn inputs() -> Vec<Vec<u8>> {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let seeds = [
        network_event("n1", "e1", "2024-05-01T10:00:00.000Z"),
        file_event("f1", "e1", "2024-05-01T10:00:01.000Z"),
    ];
    let alphabet = b"{}[]\":,.0123456789-+eE truefalsnul\\\x00\xff\xc3\xa9/*?";
    let mut out = Vec::new();
    for i in 0..1500 {
        let mut bytes = seeds[i % 2].as_bytes().to_vec();
        match i % 3 {
            // Random bytes from a JSON-ish alphabet.
            0 => {
                let len = rng.below(200);
                bytes = (0..len)
                    .map(|_| alphabet[rng.below(alphabet.len())])
                    .collect();
            }
            // A valid event with a few bytes changed.
            1 => {
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(bytes.len());
                    bytes[at] = alphabet[rng.below(alphabet.len())];
                }
            }
            // A valid event cut short or with bytes deleted.
            _ => {
                let at = rng.below(bytes.len());
                if rng.below(2) == 0 {
                    bytes.truncate(at);
                } else {
                    let end = (at + 1 + rng.below(20)).min(bytes.len());
                    bytes.drain(at..end);
                }
            }
        }
        out.push(bytes);
    }
    out
}

#[test]
fn garbage_is_refused_or_taken_never_a_trap() {
    let mut w = wasm();
    let mut n = native();
    let mut c = component();
    let mut refused = 0;
    for (i, input) in inputs().iter().enumerate() {
        let a = w.push_event(input);
        let b = n.push_event(input);
        assert_eq!(
            format!("{:?}", c.push_event(input)),
            format!("{a:?}"),
            "input {i}: the component answers as the module"
        );
        match (&a, &b) {
            (Ok(x), Ok(y)) => assert_eq!(x, y, "input {i}"),
            (
                Err(HostError::Refused {
                    code: c1,
                    message: m1,
                }),
                Err(HostError::Refused {
                    code: c2,
                    message: m2,
                }),
            ) => {
                assert_eq!((c1, m1), (c2, m2), "input {i}");
                refused += 1;
            }
            _ => panic!(
                "input {i} ({:?}): wasm {a:?}, native {b:?}",
                String::from_utf8_lossy(input)
            ),
        }
    }
    assert_eq!(w.restarts(), 0, "the module never trapped");
    assert_eq!(c.restarts(), 0, "the component never trapped");
    assert!(refused > 500, "most garbage is refused ({refused})");
    let (a, b) = (w.drain_alerts().unwrap(), n.drain_alerts().unwrap());
    assert_eq!(a, b, "the same alerts");
    assert_eq!(
        c.drain_alerts().unwrap(),
        a,
        "the same alerts in the component"
    );
}

#[test]
fn a_garbage_batch_is_refused_line_by_line_never_a_trap() {
    let mut batch = Vec::new();
    for input in inputs() {
        batch.extend(input.iter().map(|&b| if b == b'\n' { b' ' } else { b }));
        batch.push(b'\n');
    }
    let mut w = wasm();
    let mut n = native();
    let a = w.push_events(&batch).unwrap();
    let b = n.push_events(&batch).unwrap();
    assert_eq!(a, b);
    let mut c = component();
    assert_eq!(
        c.push_events(&batch).unwrap(),
        a,
        "the component answers alike"
    );
    assert_eq!(c.restarts(), 0, "the component never trapped");
    assert!(a.refused_count() > 500, "{}", a.refused_count());
    assert_eq!(w.restarts(), 0, "the module never trapped");
}
