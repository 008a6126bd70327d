//! `rulehost bench` on a tiny input: both tables are printed, with every
//! row; rows that ran agree on the alerts; rows whose build is missing say
//! so instead of failing. No speed is asserted.

use std::process::Command;

use host_harness::{build_module, workspace_dir};

/// The table rows of `section` (from its title to the next blank line
/// after the table): key and cells.
fn rows<'a>(stdout: &'a str, title: &str) -> Vec<(&'a str, Vec<&'a str>)> {
    let start = stdout
        .find(title)
        .unwrap_or_else(|| panic!("no {title:?} in\n{stdout}"));
    stdout[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2) // header and alignment
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            (cells[0], cells[1..].to_vec())
        })
        .collect()
}

/// The index among a row's cells (after its key) of the column `name` of
/// the table under `title`.
fn column(stdout: &str, title: &str, name: &str) -> usize {
    let start = stdout
        .find(title)
        .unwrap_or_else(|| panic!("no {title:?} in\n{stdout}"));
    let header = stdout[start..]
        .lines()
        .find(|l| l.starts_with("| row |"))
        .unwrap_or_else(|| panic!("no table under {title:?}:\n{stdout}"));
    header
        .trim_matches('|')
        .split(" | ")
        .position(|c| c.trim() == name)
        .unwrap_or_else(|| panic!("no {name} column: {header}"))
        - 1
}

const IN_PROCESS: &[&str] = &[
    "native",
    "native-batch",
    "wasm",
    "wasm-batch",
    "wasm-fuel",
    "wasm-fuel-batch",
    "wasm-unbounded",
    "wasm-unbounded-batch",
];
/// Run on the empty state only.
const CLI: &[&str] = &["cli-native", "cli-wasm"];
const OPTIONAL: &[&str] = &["component", "component-batch", "js", "js-batch", "python"];

#[test]
fn bench_prints_both_tables_and_rows_agree() {
    let module = build_module(&workspace_dir()).expect("the module builds");
    let out = Command::new(env!("CARGO_BIN_EXE_rulehost"))
        .args([
            "bench",
            "--events",
            "2000",
            "--profile",
            "reference",
            "--pending",
            "1000",
            "--runs",
            "1",
            "--instructions-events",
            "500",
            "--module",
        ])
        .arg(&module)
        .output()
        .expect("rulehost runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "rulehost bench failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("2000 events"), "{stdout}");
    assert!(stdout.contains("machine: "), "{stdout}");
    assert!(!stdout.contains("FAILED"), "{stdout}");

    let empty = rows(&stdout, "Empty state");
    let pending = rows(&stdout, "With 1000 pending sequences");
    for (table, rows) in [("empty", &empty), ("pending", &pending)] {
        let keys: Vec<&str> = rows.iter().map(|r| r.0).collect();
        for key in IN_PROCESS.iter().chain(CLI).chain(OPTIONAL) {
            assert!(keys.contains(key), "{table}: no row {key}:\n{stdout}");
        }
        // The reference profile: every row that ran, Python included,
        // found the same alerts as the first.
        let mut counts = Vec::new();
        for (key, cells) in rows.iter() {
            let alerts = *cells.last().unwrap();
            let ran = cells.len() > 1;
            if IN_PROCESS.contains(key) || (table == "empty" && CLI.contains(key)) {
                assert!(ran, "{table}: {key} did not run: {cells:?}");
            }
            if ran {
                let events_per_s: f64 = cells[0].parse().unwrap_or_else(|_| {
                    panic!("{table}: {key}: events/s {:?}", cells[0]);
                });
                assert!(events_per_s > 0.0);
                assert!(alerts.ends_with(" same"), "{table}: {key}: {alerts}");
                counts.push(alerts.to_string());
            } else {
                // Only a missing build or a row not run on purpose.
                assert!(
                    alerts.starts_with("not built")
                        || alerts.starts_with("not run")
                        || alerts.starts_with("not available"),
                    "{table}: {key}: {alerts}"
                );
            }
        }
        counts.dedup();
        assert_eq!(counts.len(), 1, "{table}: {counts:?}");
        assert_ne!(counts[0], "0 same", "{table}: the file has true positives");
    }
    // The pending table says how much state each sequence takes.
    let title = "With 1000 pending sequences";
    let (state, end) = (
        column(&stdout, title, "state B/pending"),
        column(&stdout, title, "pending at end"),
    );
    for (key, cells) in &pending {
        if IN_PROCESS.contains(key) {
            let per_pending: f64 = cells[state].parse().unwrap_or_else(|_| {
                panic!("{key}: state B/pending {:?}", cells[state]);
            });
            assert!(per_pending > 100.0, "{key}: {per_pending}");
            let at_end: u64 = cells[end].parse().unwrap_or_else(|_| {
                panic!("{key}: pending at end {:?}", cells[end]);
            });
            assert!(at_end >= 1000, "{key}: {at_end}");
        }
    }
    // Both tables count the wasm rows' fuel per event, the pending one on
    // a module that holds the sequences; native rows need --instructions.
    let fuel = |title: &str, rows: &[(&str, Vec<&str>)], key: &str| -> Option<f64> {
        let i = column(&stdout, title, "instr/event");
        let (_, cells) = rows.iter().find(|(k, _)| *k == key)?;
        cells[i].parse().ok()
    };
    for key in IN_PROCESS.iter().filter(|k| k.starts_with("wasm")) {
        let empty = fuel("Empty state", &empty, key)
            .unwrap_or_else(|| panic!("empty: {key}: no instr/event:\n{stdout}"));
        let held = fuel(title, &pending, key)
            .unwrap_or_else(|| panic!("pending: {key}: no instr/event:\n{stdout}"));
        assert!(
            held > empty * 0.5 && held < empty * 2.0,
            "{key}: {held} fuel per event with 1000 pending, {empty} without:\n{stdout}"
        );
    }
    assert_eq!(fuel(title, &pending, "native"), None, "{stdout}");
    assert!(stdout.contains("instr/event with 1000 pending sequences: counted as"));
}

#[test]
fn gen_is_seeded_ndjson() {
    let gen = |seed: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_rulehost"))
            .args(["gen", "--events", "50", "--seed", seed])
            .output()
            .expect("rulehost runs");
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let a = gen("7");
    assert_eq!(a.lines().count(), 50);
    assert!(a.lines().all(|l| l.starts_with("{\"@timestamp\":\"")));
    assert_eq!(a, gen("7"), "the same seed gives the same bytes");
    assert_ne!(a, gen("8"));

    let dir = std::env::temp_dir().join(format!("rulehost-gen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ref.ndjson");
    let out = Command::new(env!("CARGO_BIN_EXE_rulehost"))
        .args(["gen", "--events", "20", "--profile", "reference", "-o"])
        .arg(&file)
        .output()
        .expect("rulehost runs");
    assert!(out.status.success());
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 20);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The instr/event column: fuel per event for the wasm rows, always; with
/// `--instructions` and valgrind installed, callgrind's count for the
/// native rows. Counts, unlike times, can be held to a range: the seed
/// rule on Defend-shaped events of about 2.5 KB burns some 64 000 units of
/// fuel per event (BENCHMARKS.md); and since `push_ndjson` finds lines
/// with memchr, a batch costs about what its events cost one by one
/// (1.7x with the byte loop).
#[test]
fn bench_counts_instructions_per_event() {
    let module = build_module(&workspace_dir()).expect("the module builds");
    let valgrind = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let mut command = Command::new(env!("CARGO_BIN_EXE_rulehost"));
    command
        .args(["bench", "--events", "1000", "--runs", "1"])
        .args(["--only", "native,wasm,wasm-batch,wasm-unbounded"])
        .args(["--instructions-events", "500", "--module"])
        .arg(&module);
    if valgrind {
        command.arg("--instructions");
    }
    let out = command.output().expect("rulehost runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "rulehost bench failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let header = stdout
        .lines()
        .find(|l| l.starts_with("| row |"))
        .unwrap_or_else(|| panic!("no table in\n{stdout}"));
    let column = header
        .trim_matches('|')
        .split(" | ")
        .position(|c| c.trim() == "instr/event")
        .unwrap_or_else(|| panic!("no instr/event column: {header}"))
        - 1; // the cells after the key
    let table = rows(&stdout, "method:");
    let count = |key: &str| -> Option<f64> {
        let (_, cells) = table
            .iter()
            .find(|(k, _)| *k == key)
            .unwrap_or_else(|| panic!("no row {key}:\n{stdout}"));
        cells[column].parse().ok()
    };
    let wasm = count("wasm").unwrap_or_else(|| panic!("wasm: no instr/event:\n{stdout}"));
    assert!(
        (20_000.0..=200_000.0).contains(&wasm),
        "wasm: {wasm} fuel per event:\n{stdout}"
    );
    // Fuel counts the wasm the module runs, not the row's CPU bound.
    assert_eq!(count("wasm-unbounded"), Some(wasm), "{stdout}");
    let batch = count("wasm-batch").unwrap_or_else(|| panic!("wasm-batch:\n{stdout}"));
    assert!(
        batch > wasm * 0.9 && batch < wasm * 1.4,
        "wasm-batch {batch} against wasm {wasm} per event:\n{stdout}"
    );
    assert!(stdout.contains("instr/event: instructions per event over the first 500 events"));
    // An optimised build pushes a seed-rule event in about 26 000 x86
    // instructions; a debug build (plain `cargo test`) in some 185 000.
    let native_range = if cfg!(debug_assertions) {
        5_000.0..=1_500_000.0
    } else {
        5_000.0..=150_000.0
    };
    match count("native") {
        Some(native) if valgrind => assert!(
            native_range.contains(&native),
            "native: {native} instructions per event:\n{stdout}"
        ),
        None if !valgrind => {}
        other => panic!("native: {other:?} with valgrind {valgrind}:\n{stdout}"),
    }
}
