//! The component (`rule-component`, WIT `rule:detector@1.0.0`) as the
//! harness loads it: what it imports is exactly what `docs/ABI.md` lists
//! (so the list cannot grow unnoticed), the host gives it none of it and it
//! still runs, its sandbox holds (memory cap, CPU bound, a trap gives a
//! fresh instance with the configuration replayed), and it answers as the
//! module and the native engine do. The semantics table, bad input,
//! configuration, stats and snapshots run on it in their own files.
//! docs/ABI.md's section on it stays true: its WIT is the crate's, its
//! Rust host is the example and runs.

use std::time::Duration;

use host_harness::{CpuLimit, Detector, HostError, HostLimits, TrapCause};
use tests::{
    alert_event_ids, compiled_component, component, component_path, component_with, drain_lines,
    file_event, native, network_event, wasm, workspace,
};

#[path = "../../host-harness/examples/component_host.rs"]
mod component_host;

const T0: &str = "2024-05-01T10:00:00.000Z";
const T1: &str = "2024-05-01T10:00:01.000Z";

/// The first ```lang block after the heading `heading` in docs/ABI.md.
fn doc_block(heading: &str, lang: &str) -> String {
    let doc = std::fs::read_to_string(workspace().join("docs/ABI.md")).unwrap();
    let section = doc
        .split_once(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("docs/ABI.md has no heading {heading:?}"))
        .1;
    section
        .split_once(&format!("```{lang}\n"))
        .and_then(|(_, rest)| rest.split_once("```\n"))
        .unwrap_or_else(|| panic!("no ```{lang} block under {heading:?}"))
        .0
        .to_string()
}

/// The imports docs/ABI.md lists, one per line.
fn documented_imports() -> Vec<String> {
    doc_block("### What it imports", "text")
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn the_docs_show_the_wit_as_it_is() {
    let wit = std::fs::read_to_string(workspace().join("rule-component/wit/detector.wit")).unwrap();
    assert_eq!(
        doc_block("### The WIT", "wit"),
        wit,
        "docs/ABI.md's WIT differs from rule-component/wit/detector.wit"
    );
}

#[test]
fn the_docs_rust_host_is_the_example_and_it_runs() {
    let example = workspace().join("host-harness/examples/component_host.rs");
    assert_eq!(
        doc_block("### A host in Rust (wasmtime's component API)", "rust"),
        std::fs::read_to_string(&example).unwrap(),
        "docs/ABI.md's component host differs from {}",
        example.display()
    );
    let input = format!(
        "{}\n{{not json\n{}\n",
        network_event("n1", "e1", T0),
        file_event("f1", "e1", T1)
    );
    let mut n = native();
    n.push_events(input.as_bytes()).unwrap();
    n.flush().unwrap();
    let expected = n.drain_alerts().unwrap();
    let mut out = Vec::new();
    component_host::run(component_path(), input.as_bytes(), &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        String::from_utf8(expected).unwrap(),
        "the component host's alerts are the native engine's"
    );
}

#[test]
fn the_component_imports_what_the_docs_list_and_nothing_more() {
    let imports = compiled_component().imports();
    assert_eq!(
        imports,
        documented_imports(),
        "the component's imports changed: update docs/ABI.md (\"What it imports\") \
         if the new ones are what the standard library brings, or remove them"
    );
    for i in &imports {
        assert!(i.starts_with("wasi:"), "a non-WASI import: {i}");
        for never in ["filesystem", "sockets", "random", "clocks", "http"] {
            assert!(!i.contains(never), "a capability it must not ask for: {i}");
        }
    }
}

#[test]
fn the_component_is_a_component_of_modest_size() {
    let bytes = std::fs::read(component_path()).unwrap();
    // A component's preamble: magic, then version 0x0d and layer 1.
    assert_eq!(&bytes[..8], b"\0asm\x0d\x00\x01\x00", "not a component");
    assert!(
        bytes.len() < 2 << 20,
        "the component is {} bytes; a release build is far smaller",
        bytes.len()
    );
}

#[test]
fn a_core_module_is_not_taken_for_a_component() {
    let module = std::fs::read(tests::module_path()).unwrap();
    match host_harness::WasmComponent::from_bytes(&module, HostLimits::default()) {
        Err(HostError::Compile(_)) => {}
        Err(other) => panic!("expected a compile error, got {other}"),
        Ok(_) => panic!("a core module loaded as a component"),
    }
}

#[test]
fn a_sequence_gives_the_same_alert_in_all_three() {
    let mut alerts = Vec::new();
    for mut d in tests::all_backends() {
        assert_eq!(
            d.push_event(network_event("n1", "e1", T0).as_bytes())
                .unwrap(),
            0
        );
        assert_eq!(
            d.push_event_with_time(file_event("f1", "e1", T1).as_bytes(), 0)
                .unwrap(),
            1
        );
        let got = drain_lines(&mut *d);
        assert_eq!(got.len(), 1, "{}", d.backend());
        assert_eq!(alert_event_ids(&got[0]), ["n1", "f1"]);
        alerts.push(got);
    }
    assert_eq!(alerts[0], alerts[1]);
    assert_eq!(
        alerts[0], alerts[2],
        "the component's alert is the module's"
    );
}

#[test]
fn a_call_over_its_cpu_bound_traps_and_a_fresh_instance_takes_the_configuration() {
    // Enough fuel to build the engine, too little for a large batch.
    let limits = HostLimits {
        cpu: CpuLimit::Fuel {
            base: 100_000_000,
            per_byte: 0,
        },
        ..HostLimits::default()
    };
    let mut d = component_with(limits).instantiate().unwrap();
    d.configure(br#"{"limits": {"max_buffered_alerts": 1}}"#)
        .unwrap();
    let batch: Vec<String> = (0..20_000)
        .map(|i| network_event(&format!("n{i}"), &format!("e{i}"), T0))
        .collect();
    match d.push_events(batch.join("\n").as_bytes()) {
        Err(HostError::Trap {
            export,
            cause,
            restarted,
            ..
        }) => {
            assert_eq!(export, "push-events");
            assert_eq!(cause, TrapCause::OutOfFuel);
            assert!(restarted, "a fresh instance took its place");
        }
        other => panic!("expected out of fuel, got {other:?}"),
    }
    assert_eq!(d.restarts(), 1);
    // The fresh instance has the configuration in force: one undrained
    // alert is all it holds before back-pressure.
    d.push_event(network_event("n1", "e1", T0).as_bytes())
        .unwrap();
    assert_eq!(
        d.push_event(file_event("f1", "e1", T1).as_bytes()).unwrap(),
        1
    );
    let e = d
        .push_event(network_event("n2", "e2", T0).as_bytes())
        .unwrap_err();
    assert!(e.is_back_pressure(), "{e}");
}

#[test]
fn a_call_past_its_deadline_traps() {
    let limits = HostLimits {
        cpu: CpuLimit::Deadline {
            deadline: Duration::from_millis(20),
            tick: Duration::from_millis(2),
        },
        ..HostLimits::default()
    };
    let mut d = component_with(limits).instantiate().unwrap();
    let batch: Vec<String> = (0..100_000)
        .map(|i| network_event(&format!("n{i}"), &format!("e{i}"), T0))
        .collect();
    match d.push_events(batch.join("\n").as_bytes()) {
        Err(HostError::Trap { cause, .. }) => assert_eq!(cause, TrapCause::Deadline),
        other => panic!("expected the deadline, got {other:?}"),
    }
    assert_eq!(
        d.push_event(network_event("n1", "e1", T0).as_bytes())
            .unwrap(),
        0,
        "the fresh instance works"
    );
}

#[test]
fn an_event_larger_than_the_memory_cap_is_refused_and_the_state_kept() {
    let limits = HostLimits {
        max_memory_bytes: 48 << 20,
        ..HostLimits::default()
    };
    let mut d = component_with(limits).instantiate().unwrap();
    assert_eq!(
        d.push_event(network_event("n1", "e1", T0).as_bytes())
            .unwrap(),
        0
    );
    let huge = vec![b' '; 64 << 20];
    match d.push_event(&huge) {
        Err(HostError::Alloc { len, .. }) => assert_eq!(len, 64 << 20),
        other => panic!("expected an allocation failure, got {other:?}"),
    }
    assert!(d.memory_bytes() <= 48 << 20);
    assert_eq!(d.restarts(), 0);
    assert_eq!(
        d.push_event(file_event("f1", "e1", T1).as_bytes()).unwrap(),
        1,
        "the pending sequence survived"
    );
}

#[test]
fn memory_the_engine_needs_beyond_the_cap_is_a_trap_and_a_fresh_instance() {
    // Room for the engine, not for what a batch of many pending sequences
    // holds.
    let limits = HostLimits {
        max_memory_bytes: 24 << 20,
        ..HostLimits::default()
    };
    let mut d = component_with(limits).instantiate().unwrap();
    let mut lost = false;
    for chunk in 0..40 {
        let batch: Vec<String> = (0..2_000)
            .map(|i| {
                let id = format!("e{chunk}-{i}");
                network_event(&id, &id, T0)
            })
            .collect();
        match d.push_events(batch.join("\n").as_bytes()) {
            Ok(_) => {}
            Err(HostError::Trap {
                cause, restarted, ..
            }) => {
                assert_eq!(cause, TrapCause::MemoryLimit);
                assert!(restarted);
                lost = true;
                break;
            }
            Err(HostError::Alloc { .. }) => {
                lost = true;
                break;
            }
            Err(other) => panic!("{other}"),
        }
    }
    assert!(lost, "80 000 pending sequences fit in 24 MiB");
    assert!(d.memory_bytes() <= 24 << 20);
    assert_eq!(
        d.push_event(network_event("n1", "e1", T0).as_bytes())
            .unwrap(),
        0
    );
}

#[test]
fn a_batch_with_lines_that_are_not_utf8_answers_as_the_module_does() {
    let batch = [
        network_event("n1", "e1", T0).into_bytes(),
        b"{\"event\": {\"id\": \"\xff\"}}".to_vec(),
        b"  \xc3".to_vec(),
        Vec::new(),
        b"{bad".to_vec(),
        file_event("f1", "e1", T1).into_bytes(),
    ]
    .join(&b'\n');
    let w = wasm().push_events(&batch).unwrap();
    let n = native().push_events(&batch).unwrap();
    let c = component().push_events(&batch).unwrap();
    assert_eq!(w, n);
    assert_eq!(c, w, "component and module answer alike");
    let lines: Vec<usize> = c.refused.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 3, 5]);
    assert_eq!(c.refused[1].message, "invalid UTF-8 at byte 0");
}

#[test]
fn an_event_that_is_not_utf8_is_refused_as_by_the_module() {
    let input = b"  {\"event\": {\"id\": \"\xff\"}}";
    let m = wasm().push_event(input).unwrap_err();
    let c = component().push_event(input).unwrap_err();
    assert_eq!(c.code(), Some(-3));
    assert_eq!(c.to_string(), m.to_string());
}

#[test]
fn a_bad_rule_is_refused_with_its_position_and_the_rule_in_force_kept() {
    let bad =
        br#"{"rule": {"eql": "sequence by host.id\n  [network where ]\n  [file where true]"}}"#;
    let mut c = component();
    let m = wasm().configure(bad).unwrap_err().to_string();
    let e = c.configure(bad).unwrap_err();
    assert!(matches!(e, HostError::Config { .. }), "{e:?}");
    assert_eq!(e.to_string(), m);
    assert!(m.contains("line 2, column"), "{m}");
    // The embedded rule is still in force.
    c.push_event(network_event("n1", "e1", T0).as_bytes())
        .unwrap();
    assert_eq!(
        c.push_event(file_event("f1", "e1", T1).as_bytes()).unwrap(),
        1
    );
    // Configuration bytes that are not UTF-8 get the module's words.
    let not_utf8 = b"{\"rule\": {\"eql\": \"\xff\"}}";
    assert_eq!(
        c.configure(not_utf8).unwrap_err().to_string(),
        wasm().configure(not_utf8).unwrap_err().to_string()
    );
}
