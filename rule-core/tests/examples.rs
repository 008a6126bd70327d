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
