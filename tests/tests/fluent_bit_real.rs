//! The Fluent Bit module in real Fluent Bit 5.1.1 (built once per run by
//! `../shared/fluent-bit/build.sh` under `target/fluent-bit/`), driven by
//! the example configs of `examples/fluent-bit/` as shipped: YAML and
//! classic, `pass_through` and `alerts_only`, one Fluent Bit process each.
//!
//! Each process tails one `events.ndjson` holding, in order: the example's
//! events, the bundled sample, every stream of the semantics table (keys
//! and times made distinct per stream so that they cannot meet), records
//! nested as deep as the module takes, one level deeper, as deep as Fluent
//! Bit delivers and deeper still, then malformed lines (a bad IP, a bad
//! timestamp, a line that is not JSON, a 2 MiB record, a line longer than
//! `buffer_max_size`). Once all of that came out, a network event is
//! appended, then, after its chunk was flushed, the file event that
//! completes its sequence. Four processes in all, a few seconds each, plus
//! one with half the configs' `wasm_stack_size`.
//!
//! What must hold, byte for byte: every record Fluent Bit delivers goes
//! through the native engine (`rule_core::Engine`) in the same order (but
//! for those the module refuses as `too_deep` first); every alert Fluent
//! Bit prints is the native alert's text; in `pass_through` every record
//! comes out as it went in; the refusal counts the module reports are the
//! native engine's; and the alerts are the ones the example, the sample
//! and the semantics table name, and no others.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rule_core::Engine;
use serde_json::{json, Value};
use tests::fluent_bit::{
    clip, halve_stack, raw_elements, raw_members, run_dir, switch_function, ConfigFormat,
    FluentBit, ALERTS_ONLY, PASS_THROUGH,
};
use tests::semantics::table;
use tests::{alert_event_ids, file_event, network_event, padded, workspace};

/// The deepest record the module takes nests 59 levels
/// (`rule_fluentbit::MAX_RECORD_DEPTH`): an alert holding it nests 63,
/// the most Fluent Bit carries. With the record's object and `destination`,
/// that is 57 arrays under `destination.ip`; the configs' `wasm_stack_size`
/// must carry the engine's decoder through them in WAMR's interpreter.
const DEEPEST_TAKEN: usize = 57;

/// The deepest record Fluent Bit 5.1.1 delivers nests 63 levels: 61 arrays.
const DEEPEST_DELIVERED: usize = 61;

/// Levels past which the module refuses a record (`too_deep`).
const MAX_RECORD_DEPTH: usize = 59;

/// Longer than the configs' `buffer_max_size` (4M): `in_tail` skips it.
const BEYOND_BUFFER: usize = 5 << 20;

/// How long one phase may take to come out of Fluent Bit: generous, since
/// the suite runs these processes side by side on two busy cores.
const PHASE_TIMEOUT: Duration = Duration::from_secs(120);

/// One line of `events.ndjson`.
#[derive(Clone)]
enum Line {
    /// JSON: Fluent Bit's parser delivers it as this very text (compact,
    /// ASCII, no floats: its msgpack round trip gives the same bytes).
    Json(String),
    /// Not JSON to Fluent Bit's parser (not JSON at all, or nested deeper
    /// than it goes): `in_tail` keeps it as `{"log": "<line>"}`.
    Text(String),
    /// Never reaches the filter: longer than `buffer_max_size`
    /// (`skip_long_lines` drops it).
    Dropped(String),
}

impl Line {
    fn text(&self) -> &str {
        match self {
            Line::Json(t) | Line::Text(t) | Line::Dropped(t) => t,
        }
    }

    /// The record the filter receives, if any.
    fn delivered(&self) -> Option<String> {
        match self {
            Line::Json(t) => Some(t.clone()),
            Line::Text(t) => Some(json!({ "log": t }).to_string()),
            Line::Dropped(_) => None,
        }
    }
}

fn file_bytes(lines: &[Line]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line.text().as_bytes());
        out.push(b'\n');
    }
    out
}

/// Applies `f` to the value of the dotted field `name`, nested, flat or
/// mixed (the table spells fields all three ways).
fn edit(v: &mut Value, name: &str, f: &dyn Fn(&mut Value)) {
    let Some(obj) = v.as_object_mut() else {
        return;
    };
    if let Some(found) = obj.get_mut(name) {
        f(found);
        return;
    }
    for (i, _) in name.match_indices('.') {
        if let Some(inner) = obj.get_mut(&name[..i]) {
            edit(inner, &name[i + 1..], f);
        }
    }
}

/// Every semantics stream the module can run (the embedded rule: streams
/// with a rule of their own need `configure`, which Fluent Bit cannot
/// call), made independent of one another in one file: `event.id` gets the
/// stream's number as a prefix, every `host.id` value a suffix (a join
/// needs both keys, so no two streams join), and stream `k`'s times move
/// `k + 1` minutes later, so that each stream starts after the one before
/// ended (the engine's clock never runs backwards between streams).
/// Returns the events and, per stream, the alerts it must raise (event ids).
fn semantics_streams() -> (Vec<Line>, Vec<Vec<String>>, usize) {
    let table = table();
    let (mut lines, mut expected, mut streams) = (Vec::new(), Vec::new(), 0);
    for case in table.cases.iter().filter(|c| c.rule.is_none()) {
        let k = streams;
        streams += 1;
        let minutes = 7 * 60 + 33 + k + 1;
        let prefix = format!("2026-11-22T{:02}:{:02}:", minutes / 60, minutes % 60);
        for event in &case.events {
            let mut e = event.clone();
            edit(&mut e, "event.id", &|id| {
                *id = json!(format!("s{k}:{}", id.as_str().expect("event.id")));
            });
            edit(&mut e, "host.id", &|h| match h {
                Value::String(s) => s.push_str(&format!("-s{k}")),
                Value::Array(a) => a.iter_mut().for_each(|x| {
                    if let Value::String(s) = x {
                        s.push_str(&format!("-s{k}"));
                    }
                }),
                _ => {}
            });
            edit(&mut e, "@timestamp", &|t| match t {
                Value::String(s) => {
                    let rest = s.strip_prefix("2026-11-22T07:33:").unwrap_or_else(|| {
                        panic!("{} {}: a time outside 07:33: {s}", case.row, case.name)
                    });
                    *s = format!("{prefix}{rest}");
                }
                Value::Number(n) => {
                    *t = json!(n.as_i64().expect("epoch ms") + 60_000 * (k as i64 + 1));
                }
                other => panic!("{} {}: @timestamp {other}", case.row, case.name),
            });
            lines.push(Line::Json(e.to_string()));
        }
        for seq in &case.expect {
            expected.push(seq.iter().map(|id| format!("s{k}:{id}")).collect());
        }
    }
    (lines, expected, streams)
}

/// `examples/sample.ndjson` without its comments (a `#` line would reach
/// the filter as a `{"log": ...}` record) and the alerts its `expect:`
/// lines name.
fn sample() -> (Vec<Line>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(workspace().join("examples/sample.ndjson"))
        .expect("examples/sample.ndjson");
    let mut lines = Vec::new();
    let mut expected = Vec::new();
    for line in text.lines() {
        if let Some(ids) = line.strip_prefix("# expect:") {
            expected.push(ids.split_whitespace().map(str::to_string).collect());
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            lines.push(Line::Json(line.to_string()));
        }
    }
    (lines, expected)
}

/// A network event with `destination.ip` nested `depth` arrays deep.
fn nested_network_event(id: &str, entity: &str, ts: &str, depth: usize) -> String {
    let plain = network_event(id, entity, ts);
    let ip = r#""93.184.216.34""#;
    let nested = format!("{}{ip}{}", "[".repeat(depth), "]".repeat(depth));
    let out = plain.replacen(ip, &nested, 1);
    assert_ne!(out, plain, "the network event names 93.184.216.34");
    out
}

/// All of `events.ndjson`: the first part, written before Fluent Bit
/// starts, then two appends in separate flushes.
struct Input {
    parts: [Vec<Line>; 3],
    /// Alerts by event ids that must appear, in order of the first event.
    expected: Vec<Vec<String>>,
    streams: usize,
}

fn input() -> Input {
    let example = std::fs::read_to_string(workspace().join("examples/fluent-bit/events.ndjson"))
        .expect("examples/fluent-bit/events.ndjson");
    let mut first: Vec<Line> = example.lines().map(|l| Line::Json(l.to_string())).collect();
    let mut expected = vec![vec!["n-1".to_string(), "f-1".to_string()]];
    let (sample, sample_alerts) = sample();
    first.extend(sample);
    expected.extend(sample_alerts);
    let (semantics, semantics_alerts, streams) = semantics_streams();
    first.extend(semantics);
    expected.extend(semantics_alerts);
    // The deepest record the module takes opens a sequence: its alert
    // proves the decoder got through it with the configs' stack, and that
    // Fluent Bit carries the alert (63 levels) and the records after it.
    first.push(Line::Json(nested_network_event(
        "deep-n",
        "deep",
        "2026-11-22T09:00:00Z",
        DEEPEST_TAKEN,
    )));
    first.push(Line::Json(file_event(
        "deep-f",
        "deep",
        "2026-11-22T09:00:01Z",
    )));
    expected.push(vec!["deep-n".into(), "deep-f".into()]);
    // One level deeper, and as deep as Fluent Bit delivers: refused
    // (`too_deep`), passed on unchanged, their sequences never complete.
    for (id, arrays) in [
        ("deeper", DEEPEST_TAKEN + 1),
        ("deepest", DEEPEST_DELIVERED),
    ] {
        first.push(Line::Json(nested_network_event(
            &format!("{id}-n"),
            id,
            "2026-11-22T09:00:02Z",
            arrays,
        )));
        first.push(Line::Json(file_event(
            &format!("{id}-f"),
            id,
            "2026-11-22T09:00:03Z",
        )));
    }
    // Deeper than Fluent Bit's parser goes, the line reaches the filter as
    // `{"log": "<line>"}`, like any line that is not JSON. (Not at exactly
    // 64 levels: Fluent Bit then loses the line and the one after it,
    // silently, a Fluent Bit bug the README describes.)
    first.push(Line::Text(nested_network_event(
        "unparsed-n",
        "unparsed",
        "2026-11-22T09:00:04Z",
        DEEPEST_DELIVERED + 9,
    )));
    first.push(Line::Json(file_event(
        "unparsed-f",
        "unparsed",
        "2026-11-22T09:00:05Z",
    )));
    // Malformed lines, last: the line that is not JSON takes the read time
    // as its time, later than everything above.
    first.extend([
        Line::Json(
            network_event("bad-ip", "bad", "2026-11-22T09:10:00Z")
                .replace("93.184.216.34", "10.0.0.999"),
        ),
        Line::Json(network_event("bad-ts", "bad", "yesterday")),
        Line::Text("this line is not JSON".into()),
        Line::Json(padded(
            network_event("too-large", "bad", "2026-11-22T09:10:01Z"),
            2 << 20,
        )),
        Line::Dropped(padded(
            network_event("too-long", "bad", "2026-11-22T09:10:02Z"),
            BEYOND_BUFFER,
        )),
    ]);
    // A sequence across flushes: its network event goes in with a complete
    // pair for another process, whose alert shows the chunk went through
    // the filter (in `alerts_only` nothing else comes out); only then is
    // its file event appended.
    let second = vec![
        Line::Json(network_event("x-n", "across", "2030-01-01T00:00:00Z")),
        Line::Json(network_event("y-n", "beacon", "2030-01-01T00:00:00.100Z")),
        Line::Json(file_event("y-f", "beacon", "2030-01-01T00:00:00.200Z")),
    ];
    let third = vec![Line::Json(file_event(
        "x-f",
        "across",
        "2030-01-01T00:00:03Z",
    ))];
    expected.push(vec!["y-n".into(), "y-f".into()]);
    expected.push(vec!["x-n".into(), "x-f".into()]);
    Input {
        parts: [first, second, third],
        expected,
        streams,
    }
}

/// How deep a JSON value nests objects and arrays (a scalar: 0).
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// What the module does with the records Fluent Bit delivers: the native
/// engine's answer, or `too_deep` for a record the module refuses first.
struct Native {
    /// Per delivered record: its alerts, or the refusal.
    per_record: Vec<Result<Vec<String>, String>>,
    /// `errors` of the engine's stats, nonzero kinds only.
    errors: BTreeMap<String, u64>,
}

fn native(records: &[String]) -> Native {
    let mut engine = Engine::with_embedded_rule();
    // A record without `@timestamp` takes its Fluent Bit time, the read
    // time: only the line that is not JSON, which matches no stage.
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let per_record = records
        .iter()
        .map(|r| {
            let v: Value = serde_json::from_str(r).expect("a delivered record is JSON");
            if depth(&v) > MAX_RECORD_DEPTH {
                return Err("too_deep".to_string());
            }
            match engine.push_with_fallback_time(r.as_bytes(), now_ms) {
                Ok(_) => Ok(engine
                    .drain()
                    .into_iter()
                    .map(|a| a.into_string())
                    .collect()),
                Err(e) => Err(e.to_string()),
            }
        })
        .collect::<Vec<_>>();
    let stats: Value = serde_json::from_str(&engine.stats().to_json()).expect("stats JSON");
    let mut errors: BTreeMap<String, u64> = stats["errors"]
        .as_object()
        .expect("stats has errors")
        .iter()
        .filter_map(|(k, v)| {
            let n = v.as_u64().expect("a count");
            (n > 0).then(|| (k.clone(), n))
        })
        .collect();
    let too_deep = per_record
        .iter()
        .filter(|r| matches!(r, Err(e) if e == "too_deep"))
        .count() as u64;
    if too_deep > 0 {
        errors.insert("too_deep".into(), too_deep);
    }
    Native { per_record, errors }
}

/// One record Fluent Bit printed, taken apart: the members it came with,
/// rebuilt as text, and the module's `alerts` and `rule_refused`.
struct Printed {
    record: String,
    alerts: Vec<String>,
    refused: Option<Value>,
}

fn take_apart(line: &str) -> Printed {
    let members = raw_members(line);
    // `json_lines` puts Fluent Bit's time first as `date`.
    assert_eq!(
        members.first().map(|m| m.0.as_str()),
        Some("date"),
        "{}",
        clip(line)
    );
    let mut rest = Vec::new();
    let (mut alerts, mut refused) = (Vec::new(), None);
    for (key, value) in &members[1..] {
        match key.as_str() {
            "alerts" => {
                alerts = raw_elements(value)
                    .into_iter()
                    .map(str::to_string)
                    .collect()
            }
            "rule_refused" => refused = Some(serde_json::from_str(value).expect("rule_refused")),
            _ => rest.push(format!("{}:{value}", json!(key))),
        }
    }
    Printed {
        record: format!("{{{}}}", rest.join(",")),
        alerts,
        refused,
    }
}

/// One Fluent Bit process over the whole input, with one config and one
/// filter function; every check of the module's behaviour in it.
fn run(format: ConfigFormat, function: &str) {
    let input = input();
    let delivered: Vec<Vec<String>> = input
        .parts
        .iter()
        .map(|part| part.iter().filter_map(Line::delivered).collect())
        .collect();
    let all: Vec<String> = delivered.concat();
    let native = native(&all);
    // Records that come out, per part.
    let outputs = |range: std::ops::Range<usize>| -> usize {
        native.per_record[range]
            .iter()
            .filter(|r| function == PASS_THROUGH || matches!(r, Ok(a) if !a.is_empty()))
            .count()
    };
    let (a, b) = (delivered[0].len(), delivered[0].len() + delivered[1].len());
    let counts = [outputs(0..a), outputs(a..b), outputs(b..all.len())];

    let name = format!("{}-{function}", format.file().replace('.', "-"));
    let dir = run_dir(
        &name,
        format,
        |c| switch_function(c, function),
        &file_bytes(&input.parts[0]),
    );
    let mut fb = FluentBit::start(&dir, format);
    fb.wait_for_records(counts[0], PHASE_TIMEOUT);
    fb.append(&file_bytes(&input.parts[1]));
    fb.wait_for_records(counts[0] + counts[1], PHASE_TIMEOUT);
    fb.append(&file_bytes(&input.parts[2]));
    fb.wait_for_records(counts.iter().sum(), PHASE_TIMEOUT);
    let out = fb.stop();

    let mut failures = String::new();
    assert_eq!(
        out.records.len(),
        counts.iter().sum::<usize>(),
        "{name}: records printed; log:\n{}",
        out.log
    );
    let printed: Vec<Printed> = out.records.iter().map(|l| take_apart(l)).collect();

    // Which printed record answers which delivered record.
    let answered: Vec<usize> = (0..all.len())
        .filter(|&i| {
            function == PASS_THROUGH || matches!(&native.per_record[i], Ok(a) if !a.is_empty())
        })
        .collect();
    let mut refused_so_far = 0;
    let mut next = 0;
    for (i, record) in all.iter().enumerate() {
        let result = &native.per_record[i];
        if result.is_err() {
            refused_so_far += 1;
        }
        if answered.get(next) != Some(&i) {
            continue;
        }
        let p = &printed[next];
        next += 1;
        let alerts = result.as_ref().map(Vec::as_slice).unwrap_or_default();
        if function == PASS_THROUGH && p.record != *record {
            let _ = writeln!(
                failures,
                "record {i} came out changed\n  in:  {}\n  out: {}",
                clip(record),
                clip(&p.record)
            );
        }
        if function == ALERTS_ONLY && p.record != "{}" {
            let _ = writeln!(
                failures,
                "record {i}: alerts_only printed {}",
                clip(&p.record)
            );
        }
        if p.alerts != alerts {
            let _ = writeln!(
                failures,
                "record {i} ({}): alerts differ from native\n  printed: {:?}\n  native:  {alerts:?}",
                clip(record),
                p.alerts
            );
        }
        let want_refused = !alerts.is_empty() && refused_so_far > 0;
        if p.refused.is_some() != want_refused {
            let _ = writeln!(
                failures,
                "record {i}: rule_refused {:?}, expected {}",
                p.refused,
                if want_refused { "present" } else { "absent" }
            );
        }
    }

    // The counts the module reports with the last alert are the native
    // engine's: the line that is not JSON and the line `in_tail` skipped
    // are not among them (the engine took the one, never saw the other).
    let last = printed.last().and_then(|p| p.refused.clone());
    let last = last.unwrap_or_else(|| panic!("{name}: the last alert carries no rule_refused"));
    let mut kinds: BTreeMap<String, u64> = last
        .as_object()
        .expect("rule_refused is an object")
        .iter()
        .filter(|(k, _)| *k != "total" && *k != "last")
        .map(|(k, v)| (k.clone(), v.as_u64().expect("a count")))
        .collect();
    let refused_total = native.per_record.iter().filter(|r| r.is_err()).count() as u64;
    if last["total"] != refused_total || kinds != native.errors {
        let _ = writeln!(
            failures,
            "rule_refused {last}, native refused {refused_total}: {:?}",
            native.errors
        );
    }
    for kind in ["malformed_ip", "bad_timestamp", "too_large", "too_deep"] {
        if kinds.remove(kind).is_none() {
            let _ = writeln!(failures, "rule_refused counts no {kind}: {last}");
        }
    }

    // The alerts, by event ids: those the example, the sample, the table
    // and the extra sequences name, and no other.
    let mut got: Vec<Vec<String>> = printed
        .iter()
        .flat_map(|p| p.alerts.iter().map(|a| alert_event_ids(a)))
        .collect();
    let mut want = input.expected.clone();
    got.sort();
    want.sort();
    if got != want {
        let _ = writeln!(
            failures,
            "alerts by event ids\n  got:  {got:?}\n  want: {want:?}"
        );
    }

    // Fluent Bit's log: the skipped long line is named once; no record was
    // lost to the interpreter (a stack overflow or any other exception
    // would drop the record and log it).
    let log = out.log.to_lowercase();
    if log.matches("have long lines").count() != 1 {
        let _ = writeln!(failures, "the long line is not reported once");
    }
    for bad in ["exception", "overflow", "[error]"] {
        if log.contains(bad) {
            let _ = writeln!(failures, "the log holds {bad:?}");
        }
    }
    assert!(
        failures.is_empty(),
        "{name}:\n{failures}\nFluent Bit's log:\n{}",
        out.log
    );
    eprintln!(
        "{name}: {} lines, {} delivered, {} records printed, {} alerts ({} semantics streams) \
         == native byte for byte, in {:.1} s",
        input.parts.iter().map(Vec::len).sum::<usize>(),
        all.len(),
        printed.len(),
        got.len(),
        input.streams,
        out.seconds
    );
}

#[test]
fn yaml_pass_through_in_real_fluent_bit() {
    run(ConfigFormat::Yaml, PASS_THROUGH);
}

#[test]
fn yaml_alerts_only_in_real_fluent_bit() {
    run(ConfigFormat::Yaml, ALERTS_ONLY);
}

#[test]
fn classic_pass_through_in_real_fluent_bit() {
    run(ConfigFormat::Classic, PASS_THROUGH);
}

#[test]
fn classic_alerts_only_in_real_fluent_bit() {
    run(ConfigFormat::Classic, ALERTS_ONLY);
}

/// The configs' `wasm_stack_size` is twice what the module needs: with half
/// of it, the deepest records the module takes, under two fields the rule
/// reads, still complete their sequences in WAMR's interpreter. A module
/// build that needs more fails here before it drops records for a user
/// (WAMR's `wasm operand stack overflow` drops the record).
#[test]
fn half_the_configs_stack_still_carries_the_deepest_records() {
    let deep_exe = |id: &str, entity: &str, ts: &str| {
        let plain = file_event(id, entity, ts);
        let exe = r#""/tmp/implant""#;
        let nested = format!(
            "{}{exe}{}",
            "[".repeat(DEEPEST_TAKEN),
            "]".repeat(DEEPEST_TAKEN)
        );
        plain.replacen(exe, &nested, 1)
    };
    let records = vec![
        network_event("plain-n", "plain", "2026-11-22T07:33:00Z"),
        file_event("plain-f", "plain", "2026-11-22T07:33:01Z"),
        nested_network_event("ip-n", "ip", "2026-11-22T07:33:02Z", DEEPEST_TAKEN),
        file_event("ip-f", "ip", "2026-11-22T07:33:03Z"),
        network_event("exe-n", "exe", "2026-11-22T07:33:04Z"),
        deep_exe("exe-f", "exe", "2026-11-22T07:33:05Z"),
    ];
    for r in &records {
        let v: Value = serde_json::from_str(r).expect("JSON");
        assert!(
            depth(&v) <= MAX_RECORD_DEPTH,
            "{} nests {}",
            clip(r),
            depth(&v)
        );
    }
    let native = native(&records);
    let want: Vec<String> = native
        .per_record
        .iter()
        .flat_map(|r| r.clone().expect("taken"))
        .collect();
    assert_eq!(want.len(), 3, "the three sequences complete natively");
    let lines: Vec<Line> = records.into_iter().map(Line::Json).collect();
    let format = ConfigFormat::Yaml;
    let dir = run_dir(
        "half-stack",
        format,
        |c| halve_stack(&switch_function(c, ALERTS_ONLY)),
        &file_bytes(&lines),
    );
    let config = std::fs::read_to_string(dir.join(format.file())).expect("config");
    assert!(config.contains("wasm_stack_size: 32K"), "{config}");
    let mut fb = FluentBit::start(&dir, format);
    fb.wait_for_records(want.len(), PHASE_TIMEOUT);
    let out = fb.stop();
    let got: Vec<String> = out
        .records
        .iter()
        .flat_map(|l| take_apart(l).alerts)
        .collect();
    assert_eq!(got, want, "log:\n{}", out.log);
    assert!(!out.log.contains("overflow"), "log:\n{}", out.log);
}
