//! Differential test: rule-core against the Python reference engine (eql 1.0.1).
//!
//! Generates seeded Elastic-Defend-shaped events in the reference domain (the
//! inputs where Elasticsearch and Python eql agree, see
//! shared/spec/SEMANTICS.md), runs them through rule-core's engine and through
//! `tests/reference/eql_reference.py`, and asserts both report the same
//! sequences (lists of `event.id`), in the same order. The reference runs with
//! `--strict`: input whose `@timestamp` goes backwards (where eql's arrival-order
//! pairing differs from Elasticsearch) fails the test as outside the domain.
//!
//! Needs `python3` (with `venv`) and PyPI on first run: `tests/reference/setup.sh`
//! builds `<target>/eql-venv` once. Without them the test fails, it does not skip.
//!
//! Knobs for exploring (defaults are what CI runs):
//! `DIFFERENTIAL_SEED` (u64), `DIFFERENTIAL_EVENTS` (count, at least 100 000 by default).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use defend_gen::{write_ndjson, GenConfig, Profile};
use rule_core::Engine;
use serde_json::Value;

const DEFAULT_SEED: u64 = 0x01c1_e353_9d86_4344;
const DEFAULT_EVENTS: usize = 100_000;
/// Fewer sequences than this and the comparison proves little.
const MIN_SEQUENCES: usize = 100;
/// How many disagreements a failure prints, per kind.
const SHOW: usize = 10;

type Sequence = Vec<Value>;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("rule-core sits in the workspace")
        .to_path_buf()
}

/// The target directory this test was built into (`<target>/tmp` is Cargo's
/// scratch directory for integration tests).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is <target>/tmp")
        .to_path_buf()
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={s:?} does not parse")),
        Err(_) => default,
    }
}

/// Runs `tests/reference/setup.sh`; returns the venv's python.
fn reference_python() -> PathBuf {
    let ws = workspace();
    let script = ws.join("tests/reference/setup.sh");
    let out = Command::new("bash")
        .arg(&script)
        .current_dir(&ws)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "differential test needs bash to run {}: {e}",
                script.display()
            )
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        panic!(
            "could not set up the Python reference engine (eql 1.0.1): {} exited with {}.\n\
             It needs python3 with venv and PyPI reachable.\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            script.display(),
            out.status
        );
    }
    let python = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| PathBuf::from(l.trim()))
        .unwrap_or_else(|| {
            panic!(
                "{} printed no python path\n--- stderr\n{stderr}",
                script.display()
            )
        });
    assert!(
        python.is_file(),
        "{} named {} as the venv's python, which is not a file\n--- stderr\n{stderr}",
        script.display(),
        python.display()
    );
    python
}

/// `event.id` of one event, as the reference writes it: nested or dotted
/// key, a one-element array read as its element.
fn event_id(event: &Value) -> Value {
    let id = event
        .get("event")
        .and_then(|e| e.get("id"))
        .or_else(|| event.get("event.id"))
        .cloned()
        .unwrap_or(Value::Null);
    unwrap_one(id)
}

fn unwrap_one(mut v: Value) -> Value {
    loop {
        match v {
            Value::Array(mut a) if a.len() == 1 => v = a.pop().unwrap(),
            other => return other,
        }
    }
}

fn sequences_of_alerts(alerts: Vec<rule_core::Alert>, out: &mut Vec<Sequence>) {
    for alert in alerts {
        let doc: Value = serde_json::from_str(alert.as_str())
            .unwrap_or_else(|e| panic!("alert is not JSON ({e}): {}", alert.as_str()));
        let events = doc
            .get("Events")
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("alert has no Events array: {}", alert.as_str()));
        out.push(events.iter().map(event_id).collect());
    }
}

/// rule-core over the NDJSON file, line by line, in order.
fn run_rule_core(ndjson: &Path) -> (Vec<Sequence>, usize) {
    let mut engine = Engine::with_embedded_rule();
    let mut seqs = Vec::new();
    let reader = BufReader::new(File::open(ndjson).expect("open generated NDJSON"));
    let mut n = 0usize;
    for (i, line) in reader.lines().enumerate() {
        let line = line.expect("read generated NDJSON");
        if line.trim().is_empty() {
            continue;
        }
        n += 1;
        if let Err(e) = engine.push(line.as_bytes()) {
            panic!(
                "rule-core refused line {} of a reference-domain stream: {e:?}\n{line}",
                i + 1
            );
        }
        let alerts = engine.drain();
        sequences_of_alerts(alerts, &mut seqs);
    }
    engine.flush();
    sequences_of_alerts(engine.drain(), &mut seqs);
    (seqs, n)
}

/// The Python reference over the same file.
fn run_reference(python: &Path, ndjson: &Path) -> Vec<Sequence> {
    let ws = workspace();
    let script = ws.join("tests/reference/eql_reference.py");
    let rule = ws.join("rule-core/rule.toml");
    let out = Command::new(python)
        .arg(&script)
        .arg("--strict")
        .arg("--rule")
        .arg(&rule)
        .arg(ndjson)
        .current_dir(&ws)
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", python.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        panic!(
            "the Python reference failed ({}): {} {} --strict --rule {} {}\n--- stderr\n{stderr}",
            out.status,
            python.display(),
            script.display(),
            rule.display(),
            ndjson.display()
        );
    }
    let stdout = String::from_utf8(out.stdout).expect("reference output is UTF-8");
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str::<Sequence>(l).unwrap_or_else(|e| {
                panic!(
                    "reference output line {} is not a JSON array ({e}): {l}",
                    i + 1
                )
            })
        })
        .collect()
}

fn show(seq: &Sequence) -> String {
    serde_json::to_string(seq).unwrap()
}

/// A readable account of how the two lists differ.
fn describe_diff(rust: &[Sequence], python: &[Sequence], ndjson: &Path) -> String {
    let mut s = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(
        s,
        "rule-core reported {} sequences, the eql 1.0.1 reference {}.",
        rust.len(),
        python.len()
    );

    // Where the two lists first part, with context.
    let first = rust
        .iter()
        .zip(python)
        .position(|(a, b)| a != b)
        .unwrap_or(rust.len().min(python.len()));
    let _ = writeln!(
        s,
        "\nFirst difference at index {first} (rule-core | reference):"
    );
    let lo = first.saturating_sub(2);
    let hi = (first + 8).min(rust.len().max(python.len()));
    for i in lo..hi {
        let a = rust.get(i).map(show).unwrap_or_else(|| "-".into());
        let b = python.get(i).map(show).unwrap_or_else(|| "-".into());
        let mark = if a == b { ' ' } else { '!' };
        let _ = writeln!(s, "  {mark} [{i}] {a} | {b}");
    }

    // Which sequences only one side found (order aside).
    let rust_set: HashSet<String> = rust.iter().map(show).collect();
    let py_set: HashSet<String> = python.iter().map(show).collect();
    let only_rust: Vec<&Sequence> = rust.iter().filter(|q| !py_set.contains(&show(q))).collect();
    let only_py: Vec<&Sequence> = python
        .iter()
        .filter(|q| !rust_set.contains(&show(q)))
        .collect();
    let _ = writeln!(
        s,
        "\nOnly rule-core: {}; only the reference: {}{}",
        only_rust.len(),
        only_py.len(),
        if only_rust.is_empty() && only_py.is_empty() {
            " (same sequences, different order or multiplicity)"
        } else {
            ""
        }
    );

    // The events behind the first few disagreements, from the input.
    let mut wanted: Vec<(&str, &Sequence)> = Vec::new();
    wanted.extend(only_rust.iter().take(SHOW).map(|q| ("only rule-core", *q)));
    wanted.extend(only_py.iter().take(SHOW).map(|q| ("only reference", *q)));
    let ids: HashSet<String> = wanted
        .iter()
        .flat_map(|(_, q)| q.iter().map(|v| v.to_string()))
        .collect();
    let mut lines: HashMap<String, (usize, String)> = HashMap::new();
    if let Ok(f) = File::open(ndjson) {
        for (i, line) in BufReader::new(f).lines().enumerate() {
            let Ok(line) = line else { break };
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                let id = event_id(&v).to_string();
                if ids.contains(&id) {
                    lines.insert(id, (i + 1, line));
                }
            }
        }
    }
    for (side, q) in wanted {
        let _ = writeln!(s, "\n{side}: {}", show(q));
        for id in q {
            match lines.get(&id.to_string()) {
                Some((n, line)) => {
                    let _ = writeln!(s, "  line {n}: {line}");
                }
                None => {
                    let _ = writeln!(s, "  {id}: not found in the input");
                }
            }
        }
    }
    s
}

#[test]
fn rule_core_agrees_with_python_eql_on_the_reference_domain() {
    let seed: u64 = env_or("DIFFERENTIAL_SEED", DEFAULT_SEED);
    let events: usize = env_or("DIFFERENTIAL_EVENTS", DEFAULT_EVENTS);

    // Python first: a broken setup should say so before anything else runs.
    let t = Instant::now();
    let python = reference_python();
    eprintln!(
        "reference python: {} ({:.1?})",
        python.display(),
        t.elapsed()
    );

    let dir = target_dir().join("differential");
    std::fs::create_dir_all(&dir).expect("create <target>/differential");
    let ndjson = dir.join(format!(
        "events-{seed:016x}-{events}-{}.ndjson",
        std::process::id()
    ));

    let t = Instant::now();
    let cfg = GenConfig {
        events,
        seed,
        profile: Profile::ReferenceDomain,
    };
    {
        let mut w = BufWriter::new(File::create(&ndjson).expect("create NDJSON file"));
        write_ndjson(&cfg, &mut w).expect("write generated NDJSON");
        w.flush().expect("flush NDJSON file");
    }
    eprintln!(
        "generated {events} events, seed {seed:#x}: {} ({:.1?})",
        ndjson.display(),
        t.elapsed()
    );

    let t = Instant::now();
    let (rust, pushed) = run_rule_core(&ndjson);
    eprintln!(
        "rule-core: {pushed} events, {} sequences ({:.1?})",
        rust.len(),
        t.elapsed()
    );
    assert!(
        pushed >= events,
        "the generator wrote {pushed} events, asked for {events}"
    );

    let t = Instant::now();
    let python_seqs = run_reference(&python, &ndjson);
    eprintln!(
        "eql 1.0.1: {} sequences ({:.1?})",
        python_seqs.len(),
        t.elapsed()
    );

    if rust != python_seqs {
        panic!(
            "rule-core and the eql 1.0.1 reference disagree on {events} events (seed {seed:#x}).\n\
             Input kept at {}\nReproduce the reference side, from the workspace root, with:\n  \
             {} tests/reference/eql_reference.py --strict {}\n\n{}",
            ndjson.display(),
            python.display(),
            ndjson.display(),
            describe_diff(&rust, &python_seqs, &ndjson)
        );
    }
    assert!(
        rust.len() > MIN_SEQUENCES,
        "both engines found only {} sequences in {events} events (seed {seed:#x}); \
         the generator's reference domain must produce more than {MIN_SEQUENCES} for this test to mean anything",
        rust.len()
    );
    let _ = std::fs::remove_file(&ndjson);
}
