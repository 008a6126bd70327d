//! The harness against hostile or broken modules, written in WAT: traps,
//! endless loops, memory hogs and lying pointers must come back as typed
//! errors, with a fresh instance, and never take the host down.

use std::time::{Duration, Instant};

use host_harness::{CpuLimit, Detector, HostError, HostLimits, TrapCause, WasmModule};

/// A module that speaks the ABI, keeps a counter as its state, and
/// misbehaves on request: an event starting with `X` traps, `L` loops
/// forever, `M` grows memory until refused, then traps, `E` is refused
/// with code -4 and the message `oops!`. `drain_alerts` answers a pointer
/// outside memory.
const FAKE: &str = r#"
(module
  (memory (export "memory") 1)
  (global $count (mut i32) (i32.const 0))
  (global $bump (mut i32) (i32.const 1024))
  (data (i32.const 16) "oops!")
  (func (export "abi_version") (result i32) (i32.const ABI))
  (func (export "alloc") (param $n i32) (result i32) (local $p i32)
    (local.set $p (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $n)))
    (block $done
      (loop $more
        (br_if $done (i32.le_u (global.get $bump)
                               (i32.shl (memory.size) (i32.const 16))))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1))
          (then (return (i32.const 0))))
        (br $more)))
    (local.get $p))
  (func (export "dealloc") (param i32 i32))
  (func (export "configure") (param i32 i32) (result i32) (i32.const 0))
  (func (export "push_event") (param $p i32) (param $n i32) (result i32) (local $c i32)
    (if (local.get $n) (then (local.set $c (i32.load8_u (local.get $p)))))
    (if (i32.eq (local.get $c) (i32.const 88)) (then unreachable))
    (if (i32.eq (local.get $c) (i32.const 76)) (then (loop $forever (br $forever))))
    (if (i32.eq (local.get $c) (i32.const 77))
      (then
        (loop $grow (br_if $grow (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
        unreachable))
    (if (i32.eq (local.get $c) (i32.const 69)) (then (return (i32.const -4))))
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (global.get $count))
  (func (export "push_event_with_time") (param i32 i32 i64) (result i32) (i32.const 0))
  (func (export "push_events") (param i32 i32) (result i32) (i32.const 0))
  (func (export "drain_alerts") (result i64) (i64.const 0xffff000000000010))
  (func (export "last_error") (result i64) (i64.const 0x0000001000000005))
  (func (export "flush") (result i32) (global.get $count))
  (func (export "advance_time") (param i64) (result i32) (i32.const 0))
  (func (export "stats") (result i64) (i64.const 0))
)
"#;

fn fake(abi: u32) -> String {
    FAKE.replace("ABI", &abi.to_string())
}

fn limits() -> HostLimits {
    HostLimits {
        max_memory_bytes: 4 << 20,
        cpu: CpuLimit::Fuel {
            base: 10_000_000,
            per_byte: 100,
        },
        ..HostLimits::default()
    }
}

fn load(limits: HostLimits) -> WasmModule {
    WasmModule::from_bytes(fake(1).as_bytes(), limits).expect("the fake module loads")
}

#[test]
fn state_lives_between_calls() {
    let mut d = load(limits()).instantiate().unwrap();
    assert_eq!(d.push_event(b"a").unwrap(), 1);
    assert_eq!(d.push_event(b"b").unwrap(), 2);
    assert_eq!(d.flush().unwrap(), 2);
    assert_eq!(d.restarts(), 0);
}

#[test]
fn a_refusal_carries_code_and_message() {
    let mut d = load(limits()).instantiate().unwrap();
    assert_eq!(d.push_event(b"a").unwrap(), 1);
    match d.push_event(b"E") {
        Err(HostError::Refused { code, message }) => {
            assert_eq!(code, -4);
            assert_eq!(message, "oops!");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // A refusal is not a trap: the state is still there.
    assert_eq!(d.push_event(b"b").unwrap(), 2);
}

#[test]
fn a_trap_is_an_error_and_a_fresh_instance() {
    let mut d = load(limits()).instantiate().unwrap();
    assert_eq!(d.push_event(b"a").unwrap(), 1);
    let e = d.push_event(b"X").unwrap_err();
    match &e {
        HostError::Trap {
            export,
            cause,
            restarted,
            ..
        } => {
            assert_eq!(*export, "push_event");
            assert_eq!(*cause, TrapCause::Other);
            assert!(*restarted);
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    assert!(e.lost_state());
    assert_eq!(d.restarts(), 1);
    // Fresh state: the counter starts again.
    assert_eq!(d.push_event(b"a").unwrap(), 1);
}

#[test]
fn an_endless_loop_runs_out_of_fuel() {
    let mut d = load(limits()).instantiate().unwrap();
    let started = Instant::now();
    match d.push_event(b"L") {
        Err(HostError::Trap { cause, .. }) => assert_eq!(cause, TrapCause::OutOfFuel),
        other => panic!("expected out of fuel, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(d.push_event(b"a").unwrap(), 1);
}

/// The bound a host gets without asking (a 10 s deadline since fuel was
/// measured to cost more): it still ends a loop, in about its 10 s.
#[test]
fn the_default_bound_ends_an_endless_loop() {
    let limits = HostLimits {
        max_memory_bytes: 4 << 20,
        ..HostLimits::default()
    };
    assert_eq!(limits.cpu, host_harness::DEFAULT_DEADLINE);
    let mut d = load(limits).instantiate().unwrap();
    let started = Instant::now();
    match d.push_event(b"L") {
        Err(HostError::Trap { cause, .. }) => assert_eq!(cause, TrapCause::Deadline),
        other => panic!("expected a deadline, got {other:?}"),
    }
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(9900), "{took:?}");
    assert!(took < Duration::from_secs(60), "{took:?}");
    assert_eq!(d.push_event(b"a").unwrap(), 1);
}

#[test]
fn an_endless_loop_passes_its_deadline() {
    let limits = HostLimits {
        cpu: CpuLimit::Deadline {
            deadline: Duration::from_millis(100),
            tick: Duration::from_millis(5),
        },
        ..limits()
    };
    let mut d = load(limits).instantiate().unwrap();
    let started = Instant::now();
    match d.push_event(b"L") {
        Err(HostError::Trap { cause, .. }) => assert_eq!(cause, TrapCause::Deadline),
        other => panic!("expected a deadline, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(d.push_event(b"a").unwrap(), 1);
}

#[test]
fn memory_is_capped() {
    let mut d = load(limits()).instantiate().unwrap();
    match d.push_event(b"M") {
        Err(HostError::Trap { cause, .. }) => assert_eq!(cause, TrapCause::MemoryLimit),
        other => panic!("expected the memory limit, got {other:?}"),
    }
    assert!(d.memory_bytes() <= 4 << 20);
    assert_eq!(d.push_event(b"a").unwrap(), 1);
}

#[test]
fn an_input_beyond_the_cap_is_refused_before_the_call() {
    let mut d = load(limits()).instantiate().unwrap();
    assert_eq!(d.push_event(b"a").unwrap(), 1);
    let big = vec![b'a'; 8 << 20];
    match d.push_event(&big) {
        Err(HostError::Alloc { len, .. }) => assert_eq!(len, 8 << 20),
        other => panic!("expected an allocation failure, got {other:?}"),
    }
    // No trap, no restart: the state is intact.
    assert_eq!(d.restarts(), 0);
    assert_eq!(d.push_event(b"b").unwrap(), 2);
}

#[test]
fn a_pointer_outside_memory_is_caught() {
    let mut d = load(limits()).instantiate().unwrap();
    match d.drain_alerts() {
        Err(HostError::Abi { export, .. }) => assert_eq!(export, "drain_alerts"),
        other => panic!("expected an ABI breach, got {other:?}"),
    }
    assert_eq!(d.restarts(), 1);
}

#[test]
fn imports_are_refused() {
    let wat = r#"(module (import "env" "clock" (func (result i64))) (memory (export "memory") 1))"#;
    match WasmModule::from_bytes(wat.as_bytes(), limits()) {
        Err(HostError::Imports(names)) => assert_eq!(names, vec!["env::clock".to_string()]),
        Err(e) => panic!("expected an import error, got {e}"),
        Ok(_) => panic!("a module with imports was taken"),
    }
}

#[test]
fn missing_or_mistyped_exports_are_named() {
    let missing = fake(1).replace(r#"(export "stats")"#, "");
    let m = WasmModule::from_bytes(missing.as_bytes(), limits()).unwrap();
    match m.instantiate() {
        Err(HostError::Export { name, .. }) => assert_eq!(name, "stats"),
        Err(e) => panic!("expected an export error, got {e}"),
        Ok(_) => panic!("a module without `stats` was taken"),
    }
    let mistyped = fake(1).replace(
        r#"(func (export "flush") (result i32) (global.get $count))"#,
        r#"(func (export "flush") (result i64) (i64.const 0))"#,
    );
    let m = WasmModule::from_bytes(mistyped.as_bytes(), limits()).unwrap();
    match m.instantiate() {
        Err(HostError::Export { name, message }) => {
            assert_eq!(name, "flush");
            assert!(message.contains("() -> i32"), "{message}");
        }
        Err(e) => panic!("expected an export error, got {e}"),
        Ok(_) => panic!("a module with a mistyped `flush` was taken"),
    }
}

#[test]
fn another_abi_version_is_refused() {
    let m = WasmModule::from_bytes(fake(2).as_bytes(), limits()).unwrap();
    match m.instantiate() {
        Err(HostError::AbiVersion { found, expected }) => {
            assert_eq!(found, 2);
            assert_eq!(expected, 1);
        }
        Err(e) => panic!("expected an ABI version error, got {e}"),
        Ok(_) => panic!("a module of ABI 2 was taken"),
    }
}

#[test]
fn garbage_is_not_a_module() {
    assert!(matches!(
        WasmModule::from_bytes(b"\0asm garbage", limits()),
        Err(HostError::Compile(_))
    ));
}
