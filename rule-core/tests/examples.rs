//! Evidence that every rule fires: for each rule of the Linux + Elastic
//! Defend set (`../shared/detection-rules/linux-defend.txt`), and then for
//! every Elastic EQL rule,
//! [`rule_core::example`] builds a stream that must raise an alert and near
//! misses that must not; each goes through a fresh one-rule engine here.
//!
//! A rule that cannot be satisfied by construction is listed, with the
//! reason, in `tests/fixtures/example_unsatisfiable.toml`. No hidden
//! skips: an unlisted rule that fails fails the test, and so does a listed
//! rule that succeeds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rule_core::{example, Engine, Limits, Rule};

mod rule_files;
use rule_files::toml_files;

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

/// The rules' directory, the fixture's entries (path to reason).
fn setup() -> (PathBuf, BTreeMap<String, String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/detection-rules");
    let fixture_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/example_unsatisfiable.toml");
    let fixture: Fixture =
        toml::from_str(&std::fs::read_to_string(&fixture_path).expect("fixture"))
            .expect("fixture TOML");
    let listed = fixture
        .rule
        .into_iter()
        .map(|l| (l.path, l.reason))
        .collect();
    (root, listed)
}

/// Builds and checks the example of every rule at `paths` (relative to
/// `root`; rules not in EQL are passed over), printing a summary; returns
/// the failures.
fn check(root: &Path, paths: &[String], listed: &BTreeMap<String, String>) -> Vec<String> {
    let (mut eql, mut satisfied, mut unsatisfiable, mut near_misses) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    // EXAMPLE_DUMP=<part of a path> prints those rules' streams.
    let dump = std::env::var("EXAMPLE_DUMP").ok();
    for path in paths {
        let text = std::fs::read_to_string(root.join(path)).expect("rule file");
        let rule = match Rule::from_toml(&text) {
            Ok(rule) => rule,
            Err(e) if e.message.contains("only \"eql\"") => continue,
            Err(e) => panic!("{path}: {e}"),
        };
        eql += 1;
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
                if ex.near_misses.is_empty() {
                    failures.push(format!("{path}: no near miss"));
                }
                for miss in &ex.unexpected {
                    failures.push(format!(
                        "{path}: the engine alerted on a near miss ({}): {:#?}",
                        miss.what, miss.events
                    ));
                }
                near_misses += ex.near_misses.len();
                satisfied += 1;
            }
            (Err(_), Some(_)) => unsatisfiable += 1,
            (Err(e), None) => failures.push(format!("{path}: {e}")),
        }
    }
    println!(
        "{satisfied} of {eql} rules satisfied ({near_misses} near misses), \
         {unsatisfiable} listed as unsatisfiable"
    );
    failures
}

#[test]
fn every_linux_defend_rule_has_an_example() {
    let (root, listed) = setup();
    let list = std::fs::read_to_string(root.join("linux-defend.txt")).expect("rule list");
    let paths: Vec<String> = list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    assert_eq!(paths.len(), 327, "the Linux + Defend set changed");
    let failures = check(&root, &paths, &listed);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Beyond the Linux set: every Elastic EQL rule, under the same fixture
/// (which must name only rules that exist).
#[test]
fn every_elastic_eql_rule_has_an_example() {
    let (root, listed) = setup();
    let files = toml_files(&root);
    let mut paths: Vec<String> = files
        .iter()
        .filter_map(|f| f.strip_prefix(&root).ok())
        .map(|f| f.display().to_string())
        .collect();
    paths.sort();
    let mut failures = check(&root, &paths, &listed);
    for path in listed.keys() {
        if !paths.contains(path) {
            failures.push(format!("{path}: listed but no such rule"));
        }
    }
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
        for miss in &ex.unexpected {
            failures.push(format!(
                "{query}: the engine alerted on a near miss ({})",
                miss.what
            ));
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
