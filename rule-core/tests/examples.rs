//! Evidence that every rule fires: for each rule of the Linux + Elastic
//! Defend set (`../shared/detection-rules/linux-defend.txt`),
//! [`rule_core::example`] builds a stream that must raise an alert and near
//! misses that must not; each goes through a fresh one-rule engine here.
//!
//! A rule that cannot be satisfied by construction is listed, with the
//! reason, in `tests/fixtures/example_unsatisfiable.toml`. No hidden
//! skips: an unlisted rule that fails fails the test, and so does a listed
//! rule that succeeds.

use std::collections::BTreeMap;
use std::path::Path;

use rule_core::{example, Engine, Limits, Rule};

#[derive(serde::Deserialize)]
struct Fixture {
    #[serde(default)]
    rule: Vec<Listed>,
}

#[derive(serde::Deserialize)]
struct Listed {
    path: String,
    reason: String,
}

fn alerts(rule: &Rule, events: &[String]) -> usize {
    let mut engine = Engine::new(rule.clone(), Limits::default()).expect("rule compiles");
    for event in events {
        engine
            .push(event.as_bytes())
            .unwrap_or_else(|e| panic!("event refused: {e}: {event}"));
    }
    engine.flush();
    engine.drain().len()
}

#[test]
fn every_linux_defend_rule_has_an_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/detection-rules");
    let list = std::fs::read_to_string(root.join("linux-defend.txt")).expect("rule list");
    let fixture_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/example_unsatisfiable.toml");
    let fixture: Fixture =
        toml::from_str(&std::fs::read_to_string(&fixture_path).expect("fixture"))
            .expect("fixture TOML");
    let listed: BTreeMap<&str, &str> = fixture
        .rule
        .iter()
        .map(|l| (l.path.as_str(), l.reason.as_str()))
        .collect();
    let (mut satisfied, mut unsatisfiable, mut near_misses) = (0, 0, 0);
    let mut failures = Vec::new();
    // EXAMPLE_DUMP=<part of a path> prints those rules' streams.
    let dump = std::env::var("EXAMPLE_DUMP").ok();
    let paths: Vec<&str> = list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    for path in &paths {
        let text = std::fs::read_to_string(root.join(path)).expect("rule file");
        let rule = Rule::from_toml(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        let built = example(&rule);
        if dump.as_deref().is_some_and(|d| path.contains(d)) {
            match &built {
                Ok(ex) => {
                    println!("== {path}\n{}", ex.positives.join("\n"));
                    for miss in &ex.near_misses {
                        println!("-- near miss: {}\n{}", miss.what, miss.events.join("\n"));
                    }
                }
                Err(e) => println!("== {path}: {e}"),
            }
        }
        match (built, listed.get(path)) {
            (Ok(_), Some(reason)) => failures.push(format!(
                "{path}: listed as unsatisfiable ({reason}) but an example was built"
            )),
            (Ok(ex), None) => {
                if alerts(&rule, &ex.positives) == 0 {
                    failures.push(format!("{path}: no alert on {:#?}", ex.positives));
                    continue;
                }
                for miss in &ex.near_misses {
                    if alerts(&rule, &miss.events) != 0 {
                        failures.push(format!(
                            "{path}: near miss ({}) alerted: {:#?}",
                            miss.what, miss.events
                        ));
                    }
                }
                assert!(!ex.near_misses.is_empty(), "{path}: no near miss");
                near_misses += ex.near_misses.len();
                satisfied += 1;
            }
            (Err(_), Some(_)) => unsatisfiable += 1,
            (Err(e), None) => failures.push(format!("{path}: {e}")),
        }
    }
    for path in listed.keys() {
        if !paths.contains(path) {
            failures.push(format!("{path}: listed but not in linux-defend.txt"));
        }
    }
    println!(
        "{satisfied} of {} rules satisfied ({near_misses} near misses), {unsatisfiable} listed as unsatisfiable",
        paths.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The constructs the Linux rules do not use (or use once), each on a
/// small rule: the example fires, every near miss stays silent, and the
/// near miss the construct calls for is among them.
#[test]
fn every_construct_has_an_example() {
    let cases: &[(&str, &[&str])] = &[
        // Conflicting tests on one field: one value passes them all.
        (
            r#"process where process.name : "a*" and not process.name : "ab*" and process.name != "a""#,
            &["fails `process.name`", "hits exclusion `process.name`"],
        ),
        // Two required values of one field: an array.
        (
            r#"process where process.args == "-in" and process.args == "-out" and not process.args : "-d*""#,
            &["fails `process.args`"],
        ),
        (
            r#"network where cidrmatch(destination.ip, "10.0.0.0/8") and not destination.ip in ("10.0.0.0", "10.0.0.1") and destination.port >= 1024 and destination.port < 1025"#,
            &["fails `destination.port`"],
        ),
        (
            r#"process where process.command_line regex~ """.*[0-9]{1,3}\.[0-9]{1,3}:[0-9]{2,5}/[^ ]+.*""" and not process.command_line : "*:80/*""#,
            &["fails `process.command_line`", "hits exclusion"],
        ),
        (
            r#"process where length(process.command_line) > 40 and endsWith(process.executable, process.name) and process.name : "py*" and not process.executable : "py*""#,
            &["fails", "hits exclusion `process.executable`"],
        ),
        (
            r#"process where ?process.parent.executable == null and process.pid > 1"#,
            &["process.pid"],
        ),
        (
            r#"sequence by host.id with maxspan=10s
                 [process where process.name == "bash"] by process.entity_id
                 [network where true] by process.entity_id
               until [process where event.type == "end"] by process.entity_id"#,
            &[
                "`until` event",
                "join key `host.id` differs",
                "past maxspan",
            ],
        ),
        (
            r#"sequence by host.id with maxspan=1m
                 [process where process.name == "curl"]
                 ![file where file.path : "/tmp/*"]
                 [network where destination.port == 443]"#,
            &["the `![...]` event arrives"],
        ),
        (
            r#"sequence by host.id with maxspan=1m
                 ![process where process.name == "sshd"]
                 [network where destination.port == 22]"#,
            &["the `![...]` event arrives"],
        ),
        (
            r#"sequence by host.id with maxspan=1m
                 [network where destination.port == 22]
                 ![process where process.name == "sshd"]"#,
            &["the `![...]` event arrives"],
        ),
        (
            r#"sequence by host.id, user.name with maxspan=2s
                 [authentication where event.outcome == "failure"] with runs=5
                 [authentication where event.outcome == "success"]"#,
            &["fails `event.outcome`", "join key `host.id` differs"],
        ),
        (
            r#"sample by host.id, ?user.name
                 [process where process.name == "a"]
                 [network where destination.port == 4444]
                 [file where file.extension == "sh"]"#,
            &["fails", "join key `host.id` differs"],
        ),
        (
            r#"process where process.name in~ ("CMD.EXE", "powershell.exe") | head 1"#,
            &["fails `process.name`"],
        ),
    ];
    let mut failures = Vec::new();
    for (query, wanted) in cases {
        let rule = Rule::from_eql(*query, None);
        let ex = match example(&rule) {
            Ok(ex) => ex,
            Err(e) => {
                failures.push(format!("{query}: {e}"));
                continue;
            }
        };
        if alerts(&rule, &ex.positives) == 0 {
            failures.push(format!("{query}: no alert on {:#?}", ex.positives));
        }
        for miss in &ex.near_misses {
            if alerts(&rule, &miss.events) != 0 {
                failures.push(format!("{query}: near miss ({}) alerted", miss.what));
            }
        }
        for want in *wanted {
            if !ex.near_misses.iter().any(|m| m.what.contains(want)) {
                failures.push(format!(
                    "{query}: no near miss mentions {want:?}; have {:?}",
                    ex.near_misses.iter().map(|m| &m.what).collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
