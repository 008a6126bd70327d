//! Packs: many rules in one engine. Elastic's whole EQL rule set loads as
//! one pack; the Linux + Defend pack's alerts are exactly the union of its
//! rules run one engine each; dispatch by category and index never changes
//! a rule's results; per-rule stats, limits and snapshots hold per rule.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use defend_gen::{generate, GenConfig, Profile};
use rule_core::{Engine, Limits, Rule};

mod rule_files;
use rule_files::toml_files;

fn rules_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/detection-rules")
}

fn load(paths: &[PathBuf]) -> Vec<Rule> {
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            Rule::from_toml(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect()
}

fn all_rules() -> Vec<Rule> {
    load(&toml_files(&rules_root()))
}

fn linux_rules() -> Vec<Rule> {
    let list = std::fs::read_to_string(rules_root().join("linux-defend.txt")).unwrap();
    let files: Vec<PathBuf> = list
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| rules_root().join(l.trim()))
        .collect();
    load(&files)
}

/// Alerts by rule id, each alert's text.
fn by_rule(alerts: Vec<rule_core::Alert>) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for alert in alerts {
        let doc: serde_json::Value = serde_json::from_str(alert.as_str()).unwrap();
        let id = doc["rule"]["id"].as_str().unwrap().to_string();
        out.entry(id).or_default().push(alert.into_string());
    }
    out
}

fn stream(events: usize) -> Vec<String> {
    generate(&GenConfig {
        events,
        seed: 77,
        profile: Profile::ReferenceDomain,
    })
    .collect()
}

#[test]
fn elastic_whole_rule_set_is_one_pack() {
    let rules = all_rules();
    assert!(rules.len() >= 1000, "{} rules", rules.len());
    let count = rules.len();
    let (engine, refused) = Engine::with_rules(rules, Limits::default());
    for r in &refused {
        println!("refused {} ({}): {}", r.name, r.id, r.error);
    }
    assert!(refused.is_empty(), "{} rules refused", refused.len());
    assert_eq!(engine.rules().count(), count);
    assert_eq!(engine.stats().rules.len(), count);
}

/// `events` moved in time so that the first starts at `start_ms`.
fn retimed(events: &[String], start_ms: i64) -> Vec<String> {
    let parse = |e: &str| -> serde_json::Value { serde_json::from_str(e).unwrap() };
    let first = events
        .iter()
        .filter_map(|e| {
            let v = parse(e);
            v["@timestamp"]
                .as_str()
                .and_then(rule_core::time::parse_rfc3339_ms)
        })
        .min()
        .unwrap_or(0);
    events
        .iter()
        .map(|e| {
            let mut v = parse(e);
            if let Some(ts) = v["@timestamp"]
                .as_str()
                .and_then(rule_core::time::parse_rfc3339_ms)
            {
                v["@timestamp"] =
                    rule_core::time::format_rfc3339_ms(start_ms + (ts - first)).into();
            }
            v.to_string()
        })
        .collect()
}

/// A defend-gen stream, then each rule's example stream and near misses
/// (`rule_core::example`), an hour apart so no maxspan joins two of them.
fn stream_with_examples(rules: &[Rule]) -> Vec<String> {
    let mut events = stream(5_000);
    let mut start = rule_core::time::parse_rfc3339_ms("2030-01-01T00:00:00Z").unwrap();
    for rule in rules {
        let Ok(example) = rule_core::example(rule) else {
            continue;
        };
        events.extend(retimed(&example.positives, start));
        start += 3_600_000;
        for miss in &example.near_misses {
            events.extend(retimed(&miss.events, start));
            start += 3_600_000;
        }
    }
    events
}

#[test]
fn linux_pack_alerts_are_the_union_of_its_rules_alone() {
    let rules = linux_rules();
    assert_eq!(rules.len(), 327);
    let events = stream_with_examples(&rules);
    let (mut pack, refused) = Engine::with_rules(rules.clone(), Limits::default());
    assert!(refused.is_empty());
    for e in &events {
        pack.push(e.as_bytes()).unwrap();
    }
    pack.flush();
    let together = by_rule(pack.drain());

    let mut alone = BTreeMap::new();
    for rule in rules {
        let id = rule.meta.id.clone();
        let mut engine = Engine::new(rule, Limits::default()).unwrap();
        for e in &events {
            engine.push(e.as_bytes()).unwrap();
        }
        engine.flush();
        let alerts = engine.drain();
        if !alerts.is_empty() {
            alone.insert(id, alerts.into_iter().map(|a| a.into_string()).collect());
        }
    }
    // Every rule fires on its own example, in the pack too.
    assert_eq!(alone.len(), 327, "rules that fire alone");
    println!(
        "{} rules fire on the stream, {} alerts",
        alone.len(),
        alone.values().map(Vec::len).sum::<usize>()
    );
    let counts = |m: &BTreeMap<String, Vec<String>>| -> Vec<(String, usize)> {
        m.iter().map(|(k, v)| (k.clone(), v.len())).collect()
    };
    assert_eq!(counts(&together), counts(&alone));
    assert!(together == alone, "same counts, different alerts");
}

#[test]
fn the_seed_rule_in_a_pack_alerts_as_alone() {
    let seed = Rule::embedded();
    let events = stream(5_000);
    let mut alone = Engine::with_embedded_rule();
    let mut rules = linux_rules();
    rules.retain(|r| r.meta.id != seed.meta.id);
    rules.insert(100, seed.clone());
    let (mut pack, _) = Engine::with_rules(rules, Limits::default());
    for e in &events {
        alone.push(e.as_bytes()).unwrap();
        pack.push(e.as_bytes()).unwrap();
    }
    let alone = alone.drain();
    assert!(!alone.is_empty());
    let together = by_rule(pack.drain());
    let alone: Vec<String> = alone.into_iter().map(|a| a.into_string()).collect();
    assert!(together.get(&seed.meta.id) == Some(&alone));
}

#[test]
fn a_refused_rule_does_not_stop_the_others() {
    let rules = vec![
        Rule::from_eql(
            r#"process where process.name == "sh" and nonecs.x == "a""#,
            None,
        ),
        Rule::from_eql("process where process.name ==", None),
        Rule::from_eql("process where nonecs.x > 5", None),
    ];
    let (mut engine, refused) = Engine::with_rules(rules, Limits::default());
    assert_eq!(engine.rules().count(), 1);
    let reasons: Vec<(usize, String)> = refused
        .iter()
        .map(|r| (r.index, r.error.to_string()))
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert_eq!(reasons[0].0, 1);
    assert!(
        reasons[0].1.contains("line 1, column 30"),
        "{}",
        reasons[0].1
    );
    // The third reads `nonecs.x` as a number, the first as a keyword.
    assert_eq!(reasons[1].0, 2);
    assert!(reasons[1].1.contains("nonecs.x"), "{}", reasons[1].1);
    let stats = engine.stats();
    assert_eq!(stats.refused_rules.len(), 2);
    let event = br#"{"@timestamp":"2026-01-01T00:00:00Z","event":{"category":"process"},"process":{"name":"sh"},"nonecs":{"x":"a"}}"#;
    assert_eq!(engine.push(event), Ok(1));
    assert!(engine.stats().to_json().contains(r#""refused_rules":[{"#));
}

#[test]
fn dispatch_by_index_runs_a_rule_only_on_its_indices() {
    let mut network = Rule::from_eql("network where destination.port == 4444", None);
    network.meta.id = "net".into();
    network.index = vec!["logs-endpoint.events.network*".into()];
    let mut any = Rule::from_eql("network where destination.port == 4444", None);
    any.meta.id = "any".into();
    let (mut engine, _) = Engine::with_rules(vec![network, any], Limits::default());
    let event = |dataset: Option<&str>| {
        let ds = dataset.map_or(String::new(), |d| {
            format!(r#","data_stream":{{"type":"logs","dataset":"{d}","namespace":"default"}}"#)
        });
        format!(
            r#"{{"@timestamp":"2026-01-01T00:00:00Z","event":{{"category":"network"}},"destination":{{"port":4444}}{ds}}}"#
        )
    };
    // Its index: both rules. Another index: only the one without patterns.
    // No index known: both.
    for (dataset, fired) in [
        (Some("endpoint.events.network"), vec!["any", "net"]),
        (Some("auditd_manager.auditd"), vec!["any"]),
        (None, vec!["any", "net"]),
    ] {
        engine.push(event(dataset).as_bytes()).unwrap();
        let ids: Vec<String> = by_rule(engine.drain()).into_keys().collect();
        assert_eq!(ids, fired, "{dataset:?}");
    }
    let stats = engine.stats();
    assert_eq!(stats.rules[0].alerts, 2);
    assert_eq!(stats.rules[1].alerts, 3);
    assert_eq!(stats.alerts, 5);
}

#[test]
fn a_noisy_rule_is_cut_to_the_total_bound_and_the_others_keep_their_state() {
    // Every process event opens a sequence of the noisy rule under a new
    // key; the quiet rule has one pending sequence that must survive.
    let noisy = Rule {
        meta: rule_core::RuleMeta {
            id: "noisy".into(),
            ..Rule::embedded().meta
        },
        ..Rule::from_eql(
            r#"sequence by process.entity_id [process where true] [file where true]"#,
            None,
        )
    };
    let quiet = Rule {
        meta: rule_core::RuleMeta {
            id: "quiet".into(),
            ..Rule::embedded().meta
        },
        ..Rule::from_eql(
            r#"sequence by host.id [network where true] [network where destination.port == 1]"#,
            None,
        )
    };
    let limits = Limits {
        max_total_state_bytes: 64 << 10,
        ..Limits::default()
    };
    let (mut engine, _) = Engine::with_rules(vec![noisy, quiet], limits);
    let at = |s: u32| format!("2026-01-01T00:{:02}:{:02}Z", s / 60 % 60, s % 60);
    engine
        .push(
            format!(
                r#"{{"@timestamp":"{}","event":{{"category":"network"}},"host":{{"id":"h"}}}}"#,
                at(0)
            )
            .as_bytes(),
        )
        .unwrap();
    for i in 0..5_000u32 {
        let e = format!(
            r#"{{"@timestamp":"{}","event":{{"category":"process"}},"process":{{"entity_id":"p{i}"}}}}"#,
            at(1 + i / 100)
        );
        engine.push(e.as_bytes()).unwrap();
    }
    let stats = engine.stats();
    assert!(stats.state_bytes <= 64 << 10, "{}", stats.state_bytes);
    assert!(stats.rules[0].evictions > 0);
    assert_eq!(stats.rules[1].evictions, 0);
    assert_eq!(stats.rules[1].pending_sequences, 1);
    let last = format!(
        r#"{{"@timestamp":"{}","event":{{"category":"network"}},"host":{{"id":"h"}},"destination":{{"port":1}}}}"#,
        at(3000)
    );
    assert_eq!(engine.push(last.as_bytes()), Ok(1));
}

#[test]
fn a_pack_snapshot_restores_into_a_changed_pack_by_rule_id() {
    // A sample's keys are not carried by snapshots (see `snapshot.rs`).
    let mut rules = linux_rules();
    rules.retain(|r| !r.query.trim_start().starts_with("sample"));
    let events = stream(3_000);
    let (mut source, _) = Engine::with_rules(rules.clone(), Limits::default());
    for e in &events[..2_000] {
        source.push(e.as_bytes()).unwrap();
    }
    let pending: BTreeMap<String, u64> = source
        .stats()
        .rules
        .iter()
        .filter(|r| r.pending_sequences > 0)
        .map(|r| (r.id.clone(), r.pending_sequences))
        .collect();
    assert!(pending.len() >= 2, "{pending:?}");
    let snapshot = source.snapshot();

    // Drop one rule that holds state; the rest keep theirs.
    let dropped = pending.keys().next().unwrap().clone();
    let fewer: Vec<Rule> = rules
        .iter()
        .filter(|r| r.meta.id != dropped)
        .cloned()
        .collect();
    let (mut target, _) = Engine::with_rules(fewer, Limits::default());
    let report = target.restore_report(&snapshot).unwrap();
    assert_eq!(report.dropped.len(), 1);
    assert_eq!(report.dropped[0].0, dropped);
    assert_eq!(report.restored.len(), rules.len() - 1);
    for r in target.stats().rules {
        if r.id != dropped {
            assert_eq!(
                r.pending_sequences,
                pending.get(&r.id).copied().unwrap_or(0)
            );
        }
    }
    // Both go on to the same alerts for the rules they share.
    for e in &events[2_000..] {
        source.push(e.as_bytes()).unwrap();
        target.push(e.as_bytes()).unwrap();
    }
    // Undrained alerts travel in the snapshot, the dropped rule's too.
    let mut a = by_rule(source.drain());
    let mut b = by_rule(target.drain());
    a.remove(&dropped);
    b.remove(&dropped);
    assert!(!a.is_empty());
    assert!(a == b, "the packs disagree after the restore");
}
