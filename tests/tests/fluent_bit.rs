//! The Fluent Bit build of the module (`rule-fluentbit`) under a wasmtime
//! host that calls it exactly as Fluent Bit's `filter_wasm` does
//! (`src/wasm/flb_wasm.c`, `flb_wasm_call_function_format_json`, with
//! `event_format json`):
//!
//! - tag and record are copied in NUL-terminated through the module's
//!   `malloc(len + 1)` (`wasm_runtime_module_dup_data`); a failed `malloc`
//!   gives the function a zero pointer;
//! - the function is called with `(tag_ptr, tag_len, time_sec, time_nsec,
//!   record_ptr, record_len)`, the lengths without the NUL;
//! - the answer is read as a C string that must end inside memory, copied
//!   (`strdup`), never freed; then tag and record are `free`d;
//! - a trap, a zero pointer, `""` or anything but one JSON object drops the
//!   record; otherwise the object is the record that goes on;
//! - one instance serves every call of a filter (Fluent Bit 4.1 and later).
//!
//! On the semantics table, both filters must give exactly the records and
//! alerts the native engine (and `rulehost run`'s path, the rule module's
//! `push_events`) give on the same events, byte for byte.

use std::fmt::Write as _;

use rule_core::Engine as RuleEngine;
use serde_json::Value;
use tests::fluent_bit::{ALERTS_ONLY, PASS_THROUGH};
use tests::semantics::{table, ExpectedError};
use tests::{alert_event_ids, file_event, network_event, padded, workspace};

// A test file is a crate root: its modules are found beside it, not in
// `fluent_bit/`, unless told.
#[path = "fluent_bit/expected.rs"]
mod expected;
#[path = "fluent_bit/host.rs"]
mod host;

use expected::{check_reply, native, rulehost_alerts};
use host::{compiled, compiled_with_pack, module_bytes, ms, time_of, FluentBit, Lost, Reply};

#[test]
fn both_filters_answer_the_semantics_table_as_the_native_engine_does() {
    let table = table();
    let mut failures = String::new();
    let (mut cases, mut skipped, mut alerts_seen) = (0, 0, 0);
    for case in &table.cases {
        let label = format!("{} {}", case.row, case.name);
        if case.rule.is_some() {
            // Fluent Bit cannot configure the module: only the embedded rule.
            skipped += 1;
            continue;
        }
        cases += 1;
        // Compact JSON, as Fluent Bit hands a record over.
        let records: Vec<String> = case.events.iter().map(Value::to_string).collect();
        let times: Vec<(u32, u32)> = (0..records.len()).map(time_of).collect();
        let (expected, native_stats) = native(&records, &times);
        let native_alerts: Vec<String> = expected
            .iter()
            .flat_map(|r| r.clone().unwrap_or_default())
            .collect();
        let native_errors: Vec<ExpectedError> = expected
            .iter()
            .enumerate()
            .filter_map(|(index, r)| r.as_ref().err().map(|&code| ExpectedError { index, code }))
            .collect();
        let mut case_errors = case.errors.clone();
        case_errors.sort();
        if native_errors != case_errors {
            let _ = writeln!(
                failures,
                "{label}: native refused {native_errors:?}, the table says {case_errors:?}"
            );
        }
        let sequences: Vec<Vec<String>> =
            native_alerts.iter().map(|a| alert_event_ids(a)).collect();
        if sequences != case.expect {
            let _ = writeln!(
                failures,
                "{label}: native sequences {sequences:?}, the table says {:?}",
                case.expect
            );
        }
        let rulehost = rulehost_alerts(&records);
        if rulehost != native_alerts {
            let _ = writeln!(
                failures,
                "{label}: rulehost's path gives other alerts than the native engine\n  rulehost: {rulehost:?}\n  native:   {native_alerts:?}"
            );
        }
        for function in [PASS_THROUGH, ALERTS_ONLY] {
            let mut fb = FluentBit::new(function);
            let mut refused = 0;
            let mut emitted = Vec::new();
            for (i, record) in records.iter().enumerate() {
                let got = fb.call("defend.events", times[i], record.as_bytes());
                let alerts = match &expected[i] {
                    Ok(alerts) => alerts.as_slice(),
                    Err(_) => {
                        refused += 1;
                        &[]
                    }
                };
                if let Err(e) = check_reply(function, record, alerts, refused, &got) {
                    let _ = writeln!(failures, "{label}: {function}, record {i}: {e}");
                }
                if let Reply::Kept(text) = &got {
                    if let Some(list) = serde_json::from_str::<Value>(text)
                        .ok()
                        .and_then(|v| v.get("alerts").and_then(Value::as_array).cloned())
                    {
                        emitted.extend(list.iter().map(Value::to_string));
                    }
                }
            }
            // The same documents (compared as parsed JSON: the text was
            // compared byte for byte above).
            let native_values: Vec<String> = native_alerts
                .iter()
                .map(|a| {
                    serde_json::from_str::<Value>(a)
                        .expect("alert JSON")
                        .to_string()
                })
                .collect();
            if emitted != native_values {
                let _ = writeln!(
                    failures,
                    "{label}: {function} emitted {} alerts, native {}",
                    emitted.len(),
                    native_alerts.len()
                );
            }
            let mut stats = fb.stats();
            // State bytes count pointers: wasm32's differ from native's.
            let mut native_stats = native_stats.clone();
            for s in [&mut stats["engine"], &mut native_stats] {
                if let Some(o) = s.as_object_mut() {
                    o.remove("state_bytes");
                }
            }
            if stats["engine"] != native_stats {
                let _ = writeln!(
                    failures,
                    "{label}: {function}: engine stats differ\n  module: {}\n  native: {native_stats}",
                    stats["engine"]
                );
            }
            if stats["filter"]["refused"] != native_errors.len()
                || stats["filter"]["records"] != records.len()
                || stats["filter"]["alerts"] != native_alerts.len()
            {
                let _ = writeln!(failures, "{label}: {function}: filter counters {stats}");
            }
        }
        alerts_seen += native_alerts.len();
    }
    assert!(failures.is_empty(), "failures:\n{failures}");
    assert!(alerts_seen > 0, "the table completed no sequence");
    eprintln!(
        "{cases} cases ({skipped} with a custom rule skipped: Fluent Bit cannot configure the module), \
         {alerts_seen} alerts, both filters == native == rulehost"
    );
}

#[test]
fn records_over_8_kib_come_in_through_malloc() {
    let records = vec![
        padded(network_event("n1", "e1", "2026-11-22T07:33:00Z"), 20_000),
        padded(file_event("f1", "e1", "2026-11-22T07:33:01Z"), 100_000),
    ];
    assert!(records.iter().all(|r| r.len() > 8 * 1024));
    let times = [time_of(0), time_of(1)];
    let (expected, _) = native(&records, &times);
    let alerts = expected[1].clone().expect("taken");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alert_event_ids(&alerts[0]), ["n1", "f1"]);
    for function in [PASS_THROUGH, ALERTS_ONLY] {
        let mut fb = FluentBit::new(function);
        for (i, record) in records.iter().enumerate() {
            let got = fb.call("big", times[i], record.as_bytes());
            let alerts = expected[i].clone().expect("taken");
            check_reply(function, record, &alerts, 0, &got).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn a_zero_record_pointer_is_counted_and_answered_with_a_kept_marker() {
    for function in [PASS_THROUGH, ALERTS_ONLY] {
        let mut fb = FluentBit::new(function);
        let network = network_event("n1", "e1", "2026-11-22T07:33:00Z");
        fb.call("t", time_of(0), network.as_bytes());
        // The record Fluent Bit could not copy in: record_ptr 0.
        let tag = fb.dup(b"t");
        let got = fb.invoke(tag, 1, time_of(1), 0, 50_000);
        let marker: Value = serde_json::from_str(got.kept()).expect("JSON");
        assert_eq!(marker["rule_error"], "null_record", "{marker}");
        assert!(marker["message"].as_str().unwrap().contains("50000 bytes"));
        assert_eq!(marker["rule_refused"]["total"], 1);
        // The state is as it was: the sequence still completes, and the
        // reply carries the count.
        let file = file_event("f1", "e1", "2026-11-22T07:33:01Z");
        let got = fb.call("t", time_of(2), file.as_bytes());
        let v: Value = serde_json::from_str(got.kept()).expect("JSON");
        assert_eq!(v["alerts"].as_array().map(Vec::len), Some(1), "{v}");
        assert_eq!(v["rule_refused"]["null_record"], 1);
        let stats = fb.stats();
        assert_eq!(stats["filter"]["null_records"], 1, "{stats}");
        assert_eq!(stats["filter"]["records"], 3);
    }
}

#[test]
fn a_record_the_memory_cannot_take_arrives_as_a_zero_pointer() {
    // The module may grow to 32 MiB; a 40 MiB record cannot be copied in,
    // so its malloc fails and Fluent Bit passes record_ptr 0.
    let mut fb = FluentBit::with_memory_cap(PASS_THROUGH, 32 << 20);
    let huge = padded(network_event("n1", "e1", "2026-11-22T07:33:00Z"), 40 << 20);
    let got = fb.call("t", time_of(0), huge.as_bytes());
    let marker: Value = serde_json::from_str(got.kept()).expect("JSON");
    assert_eq!(marker["rule_error"], "null_record", "{marker}");
    // And the filter goes on.
    let record = network_event("n2", "e2", "2026-11-22T07:33:00Z");
    assert_eq!(fb.call("t", time_of(1), record.as_bytes()).kept(), record);
    assert_eq!(fb.stats()["filter"]["null_records"], 1);
}

#[test]
fn a_reply_the_memory_cannot_take_is_a_static_marker_not_a_trap() {
    // 24 MiB of memory: a 12 MiB record is copied in, but its copy into
    // the reply cannot be had.
    let mut fb = FluentBit::with_memory_cap(PASS_THROUGH, 24 << 20);
    let big = padded(network_event("n1", "e1", "2026-11-22T07:33:00Z"), 12 << 20);
    let got = fb.call("t", time_of(0), big.as_bytes());
    let marker: Value = serde_json::from_str(got.kept()).expect("JSON");
    assert_eq!(marker["rule_error"], "out_of_memory", "{marker}");
    let record = network_event("n2", "e2", "2026-11-22T07:33:00Z");
    assert_eq!(fb.call("t", time_of(1), record.as_bytes()).kept(), record);
    let stats = fb.stats();
    assert_eq!(stats["filter"]["out_of_memory"], 1, "{stats}");
    // Over 1 MiB, the engine refused the record (too_large): it passes
    // unchanged when memory allows.
    assert_eq!(stats["engine"]["errors"]["too_large"], 1);
}

#[test]
fn malformed_records_pass_unchanged_and_are_counted() {
    let records = [
        r#"{"@timestamp":"2026-11-22T07:33:00Z","event":{"category":["network"]},"destination":{"ip":"10.0.0.999"}}"#,
        r#"{"@timestamp":"2026-11-22T07:33:00Z","process":{"executable":{"not":"a keyword"}}}"#,
        r#"{"@timestamp":"yesterday","event":{"category":["network"]}}"#,
    ];
    let mut fb = FluentBit::new(PASS_THROUGH);
    let mut only = FluentBit::new(ALERTS_ONLY);
    for (i, record) in records.iter().enumerate() {
        assert_eq!(fb.call("t", time_of(i), record.as_bytes()).kept(), *record);
        assert_eq!(
            only.call("t", time_of(i), record.as_bytes()),
            Reply::Dropped(Lost::Empty)
        );
    }
    for fb in [&mut fb, &mut only] {
        let stats = fb.stats();
        assert_eq!(stats["filter"]["refused"], 3, "{stats}");
        assert_eq!(stats["engine"]["errors"]["malformed_ip"], 1);
        assert_eq!(stats["engine"]["errors"]["wrong_type"], 1);
        assert_eq!(stats["engine"]["errors"]["bad_timestamp"], 1);
        assert!(stats["filter"]["last_error"]
            .as_str()
            .unwrap()
            .contains("yesterday"));
    }
}

#[test]
fn the_record_time_stands_in_for_a_missing_timestamp() {
    let strip = |e: String| {
        let mut v: Value = serde_json::from_str(&e).expect("JSON");
        v.as_object_mut().expect("object").remove("@timestamp");
        v.to_string()
    };
    let records = vec![
        strip(network_event("n1", "e1", "x")),
        strip(file_event("f1", "e1", "x")),
    ];
    for (gap, alerts) in [((4, 999_999_999), 1), ((5, 1_000_000), 0)] {
        let times = [(1_800_000_000, 0), (1_800_000_000 + gap.0, gap.1)];
        let (expected, _) = native(&records, &times);
        assert_eq!(expected[1].as_ref().expect("taken").len(), alerts);
        for function in [PASS_THROUGH, ALERTS_ONLY] {
            let mut fb = FluentBit::new(function);
            for (i, record) in records.iter().enumerate() {
                let got = fb.call("t", times[i], record.as_bytes());
                let alerts = expected[i].clone().expect("taken");
                check_reply(function, record, &alerts, 0, &got).unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }
}

#[test]
fn a_pack_built_in_runs_every_linux_rule_as_the_native_pack_does() {
    let mut fb = FluentBit::instantiate(compiled_with_pack(), ALERTS_ONLY, 1 << 30);
    let stats = fb.stats();
    let rules = stats["engine"]["rules"]
        .as_array()
        .expect("a pack lists its rules");
    assert_eq!(rules.len(), 327, "every Linux + Defend rule runs");
    assert!(
        stats["engine"].get("refused_rules").is_none(),
        "{}",
        stats["engine"]["refused_rules"]
    );

    // The native pack of the same files, on the same records.
    let root = workspace().join("../shared/detection-rules");
    let list = std::fs::read_to_string(root.join("linux-defend.txt")).expect("the list");
    let pack: Vec<rule_core::Rule> = list
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let text = std::fs::read_to_string(root.join(l.trim())).expect("a rule file");
            rule_core::Rule::from_toml(&text).expect("a rule")
        })
        .collect();
    let (mut native, refused) = RuleEngine::with_rules(pack, rule_core::Limits::default());
    assert!(refused.is_empty());
    let records: Vec<String> = defend_gen::generate(&defend_gen::GenConfig {
        events: 3_000,
        seed: 31,
        profile: defend_gen::Profile::ReferenceDomain,
    })
    .collect();
    let mut from_filter = Vec::new();
    for (i, record) in records.iter().enumerate() {
        if let Reply::Kept(reply) = fb.call("t", time_of(i), record.as_bytes()) {
            let v: Value = serde_json::from_str(&reply).expect("JSON");
            for alert in v["alerts"].as_array().into_iter().flatten() {
                from_filter.push(alert["rule"]["id"].as_str().unwrap_or("").to_string());
            }
        }
        native
            .push_with_fallback_time(record.as_bytes(), ms(time_of(i)))
            .expect("a generated event");
    }
    let from_native: Vec<String> = native
        .drain()
        .iter()
        .map(|a| {
            let v: Value = serde_json::from_str(a.as_str()).expect("JSON");
            v["rule"]["id"].as_str().unwrap_or("").to_string()
        })
        .collect();
    assert!(from_native.len() > 10, "the stream fires the pack");
    assert_eq!(from_filter, from_native);
}

#[test]
fn one_instance_keeps_sequences_across_chunks_a_new_one_per_chunk_does_not() {
    let network = network_event("n1", "e1", "2026-11-22T07:33:00Z");
    let file = file_event("f1", "e1", "2026-11-22T07:33:04Z");
    let filler: Vec<String> = (0..300)
        .map(|i| {
            network_event(
                &format!("x{i}"),
                &format!("other-{i}"),
                "2026-11-22T07:33:02Z",
            )
        })
        .collect();
    // Fluent Bit 4.1+: one instance for the filter's life.
    let mut fb = FluentBit::new(ALERTS_ONLY);
    fb.call("t", time_of(0), network.as_bytes());
    for (i, r) in filler.iter().enumerate() {
        assert_eq!(
            fb.call("t", time_of(i), r.as_bytes()),
            Reply::Dropped(Lost::Empty)
        );
    }
    let got = fb.call("t", time_of(1), file.as_bytes());
    let v: Value = serde_json::from_str(got.kept()).expect("JSON");
    assert_eq!(alert_event_ids(&v["alerts"][0].to_string()), ["n1", "f1"]);
    // Before 4.1 each chunk got a fresh instance: the network event's chunk
    // and the file event's chunk never meet.
    let mut first_chunk = FluentBit::new(ALERTS_ONLY);
    first_chunk.call("t", time_of(0), network.as_bytes());
    let mut second_chunk = FluentBit::new(ALERTS_ONLY);
    assert_eq!(
        second_chunk.call("t", time_of(1), file.as_bytes()),
        Reply::Dropped(Lost::Empty)
    );
}

#[test]
fn memory_does_not_grow_with_the_number_of_records() {
    let mut fb = FluentBit::new(PASS_THROUGH);
    let record = |i: usize| {
        padded(
            network_event(
                &format!("n{i}"),
                &format!("e{}", i % 50),
                "2026-11-22T07:33:00Z",
            ),
            10_000,
        )
    };
    for i in 0..200 {
        fb.call("t", time_of(i), record(i).as_bytes()).kept();
    }
    let warm = fb.memory_bytes();
    for i in 200..3000 {
        fb.call("t", time_of(i), record(i).as_bytes()).kept();
    }
    let after = fb.memory_bytes();
    assert!(
        after <= warm + (2 << 20),
        "memory grew from {warm} to {after} bytes over 2800 records"
    );
}

#[test]
fn the_module_has_no_simd_no_imports_and_fluent_bits_exports() {
    let bytes = module_bytes();
    // WAMR as Fluent Bit builds it (WAMR_BUILD_SIMD 0) refuses SIMD: so does
    // a validator without the SIMD proposals.
    let mut features = wasmparser::WasmFeatures::default();
    features.remove(wasmparser::WasmFeatures::SIMD | wasmparser::WasmFeatures::RELAXED_SIMD);
    wasmparser::Validator::new_with_features(features)
        .validate_all(bytes)
        .unwrap_or_else(|e| panic!("the module does not validate without SIMD: {e}"));
    // And no instruction of the SIMD proposals anywhere in the code.
    let simd_prefixes = ["V128", "I8x16", "I16x8", "I32x4", "I64x2", "F32x4", "F64x2"];
    let (mut functions, mut operators, mut simd) = (0, 0usize, Vec::new());
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.expect("the module parses") {
            wasmparser::Payload::ImportSection(imports) => {
                assert_eq!(imports.count(), 0, "the module imports nothing");
            }
            wasmparser::Payload::CodeSectionEntry(body) => {
                functions += 1;
                for local in body.get_locals_reader().expect("locals") {
                    let (_, ty) = local.expect("local");
                    assert_ne!(ty, wasmparser::ValType::V128, "a v128 local");
                }
                let mut ops = body.get_operators_reader().expect("operators");
                while !ops.eof() {
                    let op = ops.read().expect("an operator");
                    operators += 1;
                    let name = format!("{op:?}");
                    if simd_prefixes.iter().any(|p| name.starts_with(p)) {
                        simd.push(name);
                    }
                }
            }
            _ => {}
        }
    }
    assert!(
        simd.is_empty(),
        "SIMD instructions: {:?}",
        &simd[..simd.len().min(10)]
    );
    assert!(
        functions > 100 && operators > 10_000,
        "{functions} functions, {operators} operators"
    );

    let (_, module) = compiled();
    assert_eq!(module.imports().count(), 0);
    let names: Vec<&str> = module.exports().map(|e| e.name()).collect();
    for name in [
        "memory",
        "malloc",
        "free",
        PASS_THROUGH,
        ALERTS_ONLY,
        "stats",
    ] {
        assert!(names.contains(&name), "no `{name}` export in {names:?}");
    }
    let sig = |name: &str| {
        let f = module
            .get_export(name)
            .and_then(|e| e.func().cloned())
            .unwrap_or_else(|| panic!("`{name}` is a function"));
        (
            f.params().map(|t| t.to_string()).collect::<Vec<_>>(),
            f.results().map(|t| t.to_string()).collect::<Vec<_>>(),
        )
    };
    let i32s = |n: usize| vec!["i32".to_string(); n];
    // WAMR takes `malloc`/`free` for its module heap only with exactly these.
    assert_eq!(sig("malloc"), (i32s(1), i32s(1)));
    assert_eq!(sig("free"), (i32s(1), vec![]));
    for f in [PASS_THROUGH, ALERTS_ONLY] {
        assert_eq!(sig(f), (i32s(6), i32s(1)), "{f}");
    }
    eprintln!(
        "{} bytes, {functions} functions, {operators} operators, no SIMD",
        bytes.len()
    );
}

#[test]
fn the_readme_holds_the_example_configs_verbatim() {
    let dir = workspace().join("examples/fluent-bit");
    let readme =
        std::fs::read_to_string(dir.join("README.md")).expect("examples/fluent-bit/README.md");
    for file in ["fluent-bit.yaml", "fluent-bit.conf", "parsers.conf"] {
        let text =
            std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(
            readme.contains(&text),
            "README.md does not hold {file} as it is; a user copies the README"
        );
        let lower = text.to_lowercase();
        for key in [
            "wasm_path",
            "function_name",
            "accessible_paths",
            "wasm_heap_size",
            "event_format",
        ] {
            if file != "parsers.conf" {
                assert!(lower.contains(key), "{file} sets no {key}");
            }
        }
        if file != "parsers.conf" {
            assert!(
                lower.contains(PASS_THROUGH) || lower.contains(ALERTS_ONLY),
                "{file} names neither filter function"
            );
        }
    }
}

#[test]
fn the_example_events_raise_their_alert_in_both_modes() {
    let path = workspace().join("examples/fluent-bit/events.ndjson");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let records: Vec<String> = text.lines().map(str::to_string).collect();
    let rulehost = rulehost_alerts(&records);
    assert_eq!(
        rulehost.len(),
        1,
        "the example should raise exactly one alert"
    );
    assert_eq!(alert_event_ids(&rulehost[0]), ["n-1", "f-1"]);
    for function in [PASS_THROUGH, ALERTS_ONLY] {
        let mut fb = FluentBit::new(function);
        let replies: Vec<Reply> = records
            .iter()
            .enumerate()
            .map(|(i, r)| fb.call("defend", time_of(i), r.as_bytes()))
            .collect();
        let last = records.len() - 1;
        for (i, record) in records.iter().enumerate() {
            let alerts = if i == last { rulehost.clone() } else { vec![] };
            check_reply(function, record, &alerts, 0, &replies[i])
                .unwrap_or_else(|e| panic!("{function}, record {i}: {e}"));
        }
    }
}

#[test]
fn deeply_nested_values_under_a_rule_field_neither_trap_nor_stop_the_filter() {
    // serde_json refuses nesting past 128 levels; up to it, the decoder
    // recurses once per level of a field the rule reads.
    for depth in [100, 127, 128, 129, 10_000] {
        let ip = format!(
            "{}\"93.184.216.34\"{}",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let record = format!(
            r#"{{"@timestamp":"2026-11-22T07:33:00Z","event":{{"category":["network"],"type":["start"],"action":"connection_attempted"}},"host":{{"id":"h","os":{{"type":"linux"}}}},"process":{{"entity_id":"e","executable":"/tmp/a","name":"a"}},"destination":{{"ip":{ip}}}}}"#
        );
        let mut fb = FluentBit::new(PASS_THROUGH);
        let text = match fb.call("t", time_of(0), record.as_bytes()) {
            Reply::Kept(text) => text,
            // This host's JSON parser stops at 128 levels too; Fluent
            // Bit's does not.
            Reply::Dropped(Lost::NotAnObject(text)) if depth >= 127 => text,
            other => panic!("depth {depth}: {other:?}"),
        };
        assert_eq!(text, record, "depth {depth}");
        let next = network_event("n", "e", "2026-11-22T07:33:01Z");
        assert_eq!(fb.call("t", time_of(1), next.as_bytes()).kept(), next);
    }
}
