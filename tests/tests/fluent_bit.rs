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
use std::path::Path;
use std::sync::OnceLock;

use host_harness::Detector;
use rule_core::Engine as RuleEngine;
use serde::Deserialize;
use serde_json::Value;
use tests::{alert_event_ids, file_event, fixtures_dir, network_event, workspace};
use wasmtime::{
    Engine, Instance, Memory, Module, Store, StoreLimits, StoreLimitsBuilder, TypedFunc,
};

const PASS_THROUGH: &str = "pass_through";
const ALERTS_ONLY: &str = "alerts_only";

/// The Fluent Bit module, built once per test binary (the same build the
/// real-Fluent-Bit tests use).
fn module_path() -> &'static Path {
    tests::fluent_bit::filter_module()
}

fn module_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        std::fs::read(module_path())
            .unwrap_or_else(|e| panic!("reading {}: {e}", module_path().display()))
    })
}

/// The module compiled by wasmtime, once.
fn compiled() -> &'static (Engine, Module) {
    static MODULE: OnceLock<(Engine, Module)> = OnceLock::new();
    MODULE.get_or_init(|| {
        let engine = Engine::default();
        let module = Module::new(&engine, module_bytes())
            .unwrap_or_else(|e| panic!("compiling {}: {e:#}", module_path().display()));
        (engine, module)
    })
}

/// The module with the Linux + Defend pack built in, compiled once.
fn compiled_with_pack() -> &'static (Engine, Module) {
    static MODULE: OnceLock<(Engine, Module)> = OnceLock::new();
    MODULE.get_or_init(|| {
        let path = tests::fluent_bit::filter_module_with_linux_pack();
        let engine = Engine::default();
        let module = Module::from_file(&engine, path)
            .unwrap_or_else(|e| panic!("compiling {}: {e:#}", path.display()));
        (engine, module)
    })
}

/// Why Fluent Bit would drop the record.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Lost {
    /// The function answered `""`.
    Empty,
    /// The function answered a zero pointer.
    Null,
    /// The function trapped.
    Trap(String),
    /// The answer names no C string inside memory.
    BadString(u32),
    /// The answer is not one JSON object.
    NotAnObject(String),
}

/// What Fluent Bit makes of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    /// One JSON object: the record that goes on, as text.
    Kept(String),
    Dropped(Lost),
}

impl Reply {
    fn kept(&self) -> &str {
        match self {
            Reply::Kept(text) => text,
            Reply::Dropped(why) => panic!("the record was dropped: {why:?}"),
        }
    }
}

/// One `filter_wasm` instance: the module instantiated once, its function
/// chosen by name, as Fluent Bit holds it for a filter's life.
struct FluentBit {
    store: Store<StoreLimits>,
    memory: Memory,
    malloc: TypedFunc<i32, i32>,
    free: TypedFunc<i32, ()>,
    filter: TypedFunc<(i32, i32, i32, i32, i32, i32), i32>,
    stats: TypedFunc<(), i32>,
}

impl FluentBit {
    fn new(function_name: &str) -> FluentBit {
        FluentBit::with_memory_cap(function_name, 1 << 30)
    }

    fn with_memory_cap(function_name: &str, max_memory: usize) -> FluentBit {
        FluentBit::instantiate(compiled(), function_name, max_memory)
    }

    fn instantiate(
        (engine, module): &(Engine, Module),
        function_name: &str,
        max_memory: usize,
    ) -> FluentBit {
        let limits = StoreLimitsBuilder::new().memory_size(max_memory).build();
        let mut store = Store::new(engine, limits);
        store.limiter(|l| l);
        let instance = Instance::new(&mut store, module, &[]).expect("instantiate");
        let memory = instance
            .get_memory(&mut store, "memory")
            .expect("exports memory");
        let malloc = instance
            .get_typed_func(&mut store, "malloc")
            .expect("malloc(i32) -> i32");
        let free = instance
            .get_typed_func(&mut store, "free")
            .expect("free(i32)");
        let filter = instance
            .get_typed_func(&mut store, function_name)
            .unwrap_or_else(|e| panic!("{function_name}: {e}"));
        let stats = instance
            .get_typed_func(&mut store, "stats")
            .expect("stats() -> i32");
        FluentBit {
            store,
            memory,
            malloc,
            free,
            filter,
            stats,
        }
    }

    /// `wasm_runtime_module_dup_data(inst, bytes, len + 1)`: the module's
    /// `malloc`, then the bytes and their NUL; 0 when `malloc` failed.
    fn dup(&mut self, bytes: &[u8]) -> i32 {
        let size = i32::try_from(bytes.len() + 1).expect("a 32-bit length");
        let ptr = self
            .malloc
            .call(&mut self.store, size)
            .expect("malloc traps not");
        if ptr == 0 {
            return 0;
        }
        let mut with_nul = Vec::with_capacity(bytes.len() + 1);
        with_nul.extend_from_slice(bytes);
        with_nul.push(0);
        self.memory
            .write(&mut self.store, ptr as u32 as usize, &with_nul)
            .expect("malloc's block lies in memory");
        ptr
    }

    /// One record through the filter, as Fluent Bit sends it.
    fn call(&mut self, tag: &str, time: (u32, u32), record: &[u8]) -> Reply {
        let tag_ptr = self.dup(tag.as_bytes());
        let record_ptr = self.dup(record);
        self.invoke(tag_ptr, tag.len(), time, record_ptr, record.len())
    }

    /// The call proper, with the pointers given: Fluent Bit passes whatever
    /// `dup` gave, 0 included.
    fn invoke(
        &mut self,
        tag_ptr: i32,
        tag_len: usize,
        time: (u32, u32),
        record_ptr: i32,
        record_len: usize,
    ) -> Reply {
        let args = (
            tag_ptr,
            tag_len as i32,
            time.0 as i32,
            time.1 as i32,
            record_ptr,
            record_len as i32,
        );
        let reply = match self.filter.call(&mut self.store, args) {
            Err(trap) => Reply::Dropped(Lost::Trap(format!("{trap:#}"))),
            Ok(0) => Reply::Dropped(Lost::Null),
            Ok(ptr) => match self.c_string(ptr as u32) {
                None => Reply::Dropped(Lost::BadString(ptr as u32)),
                Some(bytes) => classify(bytes),
            },
        };
        // Fluent Bit frees tag and record after it copied the answer.
        for ptr in [tag_ptr, record_ptr] {
            if ptr != 0 {
                self.free
                    .call(&mut self.store, ptr)
                    .expect("free traps not");
            }
        }
        reply
    }

    /// `wasm_runtime_validate_app_str_addr` + `strdup`: the bytes up to the
    /// NUL, which must come before the end of memory.
    fn c_string(&self, ptr: u32) -> Option<Vec<u8>> {
        let data = self.memory.data(&self.store);
        let tail = data.get(ptr as usize..)?;
        let end = tail.iter().position(|&b| b == 0)?;
        Some(tail[..end].to_vec())
    }

    /// The `stats` export.
    fn stats(&mut self) -> Value {
        let ptr = self.stats.call(&mut self.store, ()).expect("stats");
        let bytes = self.c_string(ptr as u32).expect("stats is a C string");
        serde_json::from_slice(&bytes).expect("stats is JSON")
    }

    fn memory_bytes(&self) -> usize {
        self.memory.data_size(&self.store)
    }
}

/// What Fluent Bit does with the copied answer: `""` drops the record;
/// `flb_pack_json` must find one JSON object, or the record is dropped.
fn classify(bytes: Vec<u8>) -> Reply {
    if bytes.is_empty() {
        return Reply::Dropped(Lost::Empty);
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(_)) => Reply::Kept(text),
        _ => Reply::Dropped(Lost::NotAnObject(text)),
    }
}

/// Fluent Bit's time for the `i`-th record of a test.
fn time_of(i: usize) -> (u32, u32) {
    (1_800_000_000 + i as u32, 250_000_000)
}

fn ms(time: (u32, u32)) -> i64 {
    i64::from(time.0) * 1000 + i64::from(time.1 / 1_000_000)
}

/// The native engine on the same records with the same record times: for
/// each record, the alerts it completed (`Err(code)` when refused).
fn native(records: &[String], times: &[(u32, u32)]) -> (Vec<Result<Vec<String>, i32>>, Value) {
    let mut engine = RuleEngine::with_embedded_rule();
    let per_record = records
        .iter()
        .zip(times)
        .map(
            |(r, &t)| match engine.push_with_fallback_time(r.as_bytes(), ms(t)) {
                Ok(_) => Ok(engine
                    .drain()
                    .into_iter()
                    .map(|a| a.into_string())
                    .collect()),
                Err(e) => Err(e.code()),
            },
        )
        .collect();
    let stats = serde_json::from_str(&engine.stats().to_json()).expect("stats JSON");
    (per_record, stats)
}

/// The reply Fluent Bit must get for `record` in `function`, given the
/// native alerts; `refused` counts the records refused so far. Returns an
/// error text when `got` differs.
fn check_reply(
    function: &str,
    record: &str,
    alerts: &[String],
    refused: usize,
    got: &Reply,
) -> Result<(), String> {
    let prefix = match (function, alerts.is_empty()) {
        (PASS_THROUGH, true) => {
            return match got {
                Reply::Kept(text) if text == record => Ok(()),
                _ => Err(format!("expected the record unchanged, got {got:?}")),
            }
        }
        (_, true) => {
            return match got {
                Reply::Dropped(Lost::Empty) => Ok(()),
                _ => Err(format!("expected \"\" (dropped), got {got:?}")),
            }
        }
        (PASS_THROUGH, false) => format!(
            "{},\"alerts\":[{}]",
            &record[..record.len() - 1],
            alerts.join(",")
        ),
        (_, false) => format!("{{\"alerts\":[{}]", alerts.join(",")),
    };
    let Reply::Kept(text) = got else {
        return Err(format!("expected alerts, the record was dropped: {got:?}"));
    };
    let Some(rest) = text.strip_prefix(&prefix) else {
        return Err(format!(
            "the reply does not start with the native alerts\n  expected: {prefix}…\n  got:      {text}"
        ));
    };
    if refused == 0 {
        return if rest == "}" {
            Ok(())
        } else {
            Err(format!("unexpected tail after the alerts: {rest}"))
        };
    }
    let summary = rest
        .strip_prefix(",\"rule_refused\":")
        .and_then(|s| s.strip_suffix('}'))
        .ok_or_else(|| format!("expected rule_refused after the alerts, got {rest}"))?;
    let summary: Value =
        serde_json::from_str(summary).map_err(|e| format!("rule_refused: {e}: {summary}"))?;
    if summary["total"] != refused {
        return Err(format!("rule_refused total {summary}, expected {refused}"));
    }
    Ok(())
}

#[derive(Deserialize)]
struct Table {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    row: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    rule: Option<String>,
    events: Vec<Value>,
    #[serde(default)]
    expect: Vec<Vec<String>>,
    #[serde(default)]
    errors: Vec<ExpectedError>,
}

#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct ExpectedError {
    index: usize,
    code: i32,
}

fn table() -> Table {
    let path = fixtures_dir().join("semantics.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the semantics table {} is missing: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not a semantics table: {e}", path.display()))
}

/// `rulehost run`'s path: the rule module, one NDJSON batch, flush, drain.
fn rulehost_alerts(records: &[String]) -> Vec<String> {
    let mut d = tests::wasm();
    let mut batch = records.join("\n");
    batch.push('\n');
    d.push_events(batch.as_bytes()).expect("push_events");
    d.flush().expect("flush");
    let bytes = d.drain_alerts().expect("drain_alerts");
    String::from_utf8(bytes)
        .expect("UTF-8")
        .lines()
        .map(str::to_string)
        .collect()
}

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

/// A Defend-like network/file pair for `entity` whose `message` makes the
/// record `pad` bytes longer.
fn padded(event: String, pad: usize) -> String {
    let mut v: Value = serde_json::from_str(&event).expect("JSON");
    v["message"] = Value::String("x".repeat(pad));
    v.to_string()
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
