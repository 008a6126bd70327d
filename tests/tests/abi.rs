//! The module's shape: what it imports (nothing), what it exports (the ABI
//! of docs/ABI.md, with its signatures), and the host's bounds on it.

use host_harness::{
    CpuLimit, Detector, HostError, HostLimits, TrapCause, ABI_EXPORTS, OPTIONAL_EXPORTS,
};
use tests::{file_event, module, module_path, module_with, network_event, wasm};

#[test]
fn the_module_imports_nothing() {
    assert_eq!(module().imports(), Vec::<String>::new());
}

#[test]
fn the_exports_are_the_documented_abi() {
    let exports = module().exports();
    for (name, signature) in ABI_EXPORTS {
        let e = exports
            .iter()
            .find(|e| e.name == *name)
            .unwrap_or_else(|| panic!("export `{name}` is missing"));
        assert_eq!(e.kind, "func", "`{name}`");
        assert_eq!(e.signature, *signature, "`{name}`");
    }
    for (name, signature) in OPTIONAL_EXPORTS {
        let e = exports
            .iter()
            .find(|e| e.name == *name)
            .unwrap_or_else(|| panic!("our module exports `{name}`"));
        assert_eq!(e.signature, *signature, "`{name}`");
    }
    let memory = exports.iter().find(|e| e.name == "memory").expect("memory");
    assert_eq!(memory.kind, "memory");
    // Nothing else, apart from the two globals the Rust linker adds.
    for e in &exports {
        let documented = ABI_EXPORTS
            .iter()
            .chain(OPTIONAL_EXPORTS)
            .any(|(n, _)| *n == e.name)
            || e.name == "memory"
            || (e.kind == "global" && (e.name == "__data_end" || e.name == "__heap_base"));
        assert!(documented, "undocumented export `{}` ({})", e.name, e.kind);
    }
    module().check_abi().expect("the ABI check passes");
}

#[test]
fn the_module_speaks_abi_1() {
    assert_eq!(host_harness::ABI_VERSION, 1);
    // `instantiate` calls `abi_version` and refuses anything else.
    let _ = wasm();
}

#[test]
fn the_module_is_a_release_build() {
    let size = std::fs::metadata(module_path()).expect("module file").len();
    assert!(size > 0);
    assert!(
        size < 4 << 20,
        "the module is {size} bytes; a release build is far smaller"
    );
}

#[test]
fn an_event_larger_than_the_memory_cap_is_refused_and_the_state_kept() {
    let limits = HostLimits {
        max_memory_bytes: 48 << 20,
        ..HostLimits::default()
    };
    let mut d = module_with(limits).instantiate().unwrap();
    let opened = d
        .push_event(network_event("n1", "e1", "2024-05-01T10:00:00.000Z").as_bytes())
        .unwrap();
    assert_eq!(opened, 0);
    let huge = vec![b' '; 64 << 20];
    match d.push_event(&huge) {
        Err(HostError::Alloc { len, .. }) => assert_eq!(len, 64 << 20),
        other => panic!("expected an allocation failure, got {other:?}"),
    }
    assert!(d.memory_bytes() <= 48 << 20);
    assert_eq!(d.restarts(), 0);
    let pending = d
        .push_event(file_event("f1", "e1", "2024-05-01T10:00:01.000Z").as_bytes())
        .unwrap();
    assert_eq!(pending, 1, "the pending sequence survived");
}

#[test]
fn a_call_over_its_cpu_bound_traps_and_the_host_goes_on() {
    // Too little fuel to even build the engine on first use.
    let starved = HostLimits {
        cpu: CpuLimit::Fuel {
            base: 20_000,
            per_byte: 0,
        },
        ..HostLimits::default()
    };
    let mut d = module_with(starved).instantiate().unwrap();
    let event = network_event("n1", "e1", "2024-05-01T10:00:00.000Z");
    match d.push_event(event.as_bytes()) {
        Err(HostError::Trap {
            cause, restarted, ..
        }) => {
            assert_eq!(cause, TrapCause::OutOfFuel);
            assert!(restarted, "a fresh instance took its place");
        }
        other => panic!("expected out of fuel, got {other:?}"),
    }
    assert_eq!(d.restarts(), 1);
    // The host is fine, and a well-fed instance of the same module works.
    let mut fed = wasm();
    assert_eq!(fed.push_event(event.as_bytes()).unwrap(), 0);
}
