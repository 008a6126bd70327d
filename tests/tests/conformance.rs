//! Elasticsearch's own EQL spec tests (`../shared/conformance/es-eql`), run
//! on every backend (the wasm module and the component under wasmtime,
//! rule-core in process) as a stream: each query set through `configure`
//! (the rule, the suite's mapping and `event_category_field` as `params`),
//! every event pushed in Elasticsearch's sort order, then `flush`, then the
//! results' ids compared with the spec's.
//!
//! Conventions (the README beside the specs): ids read from the suite's id
//! field, sequences flattened; a spec's `size` is sent as the request
//! parameter (with Elasticsearch's default `result_position`, `tail`), and
//! the results (50 unless the spec says) are compared from the first or
//! the last, as Elasticsearch's random `result_position` does; a list of lists means any one of them. Where a spec lists
//! `join_keys`, each result's keys (the alert's fields named by the query's
//! `by`, a null one as `"null"`) must be those, in order.
//!
//! Every query runs. The ones this engine does not yet answer as
//! Elasticsearch does are listed in `fixtures/conformance_known_failures.toml`, each
//! with why; the test fails when a query outside that list fails, and
//! when a listed one passes (so the list only shrinks). A table per spec
//! file is printed either way (`cargo test --test conformance -- --nocapture`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use host_harness::Detector;
use serde_json::{json, Value};
use tests::{all_backends, fixtures_dir, workspace};

fn conformance_dir() -> PathBuf {
    workspace().join("../shared/conformance/es-eql")
}

struct Suite {
    name: &'static str,
    specs: &'static [&'static str],
    ndjson: &'static str,
    mappings: &'static [&'static str],
    id_field: &'static str,
    /// The `tiebreaker_field` Elasticsearch's runner sends for this data.
    tiebreaker: Option<&'static str>,
}

const SUITES: &[Suite] = &[
    Suite {
        name: "endgame-140",
        specs: &[
            "specs/test_queries.toml",
            "specs/additional_test_queries.toml",
            "specs/test_queries_date.toml",
            "specs/historic/test_between_queries.toml",
        ],
        ndjson: "ndjson/endgame-140.ndjson",
        mappings: &["data/endgame-140.mapping"],
        id_field: "serial_event_id",
        tiebreaker: Some("serial_event_id"),
    },
    Suite {
        name: "missing-events",
        specs: &["specs/test_missing_events.toml"],
        ndjson: "ndjson/missing-events.ndjson",
        mappings: &["data/missing-events.mapping"],
        id_field: "sequence",
        tiebreaker: Some("sequence"),
    },
    Suite {
        name: "sample",
        specs: &["specs/test_sample.toml"],
        ndjson: "ndjson/sample.ndjson",
        mappings: &[
            "data/sample1.mapping",
            "data/sample2.mapping",
            "data/sample3.mapping",
        ],
        id_field: "id",
        tiebreaker: None,
    },
    Suite {
        name: "sample-multi",
        specs: &["specs/test_sample_multi.toml"],
        ndjson: "ndjson/sample-multi.ndjson",
        mappings: &["data/sample-multi.mapping"],
        id_field: "id",
        tiebreaker: None,
    },
    Suite {
        name: "sampling (historic)",
        specs: &["specs/historic/test_sampling.toml"],
        ndjson: "ndjson/historic/sampling.ndjson",
        mappings: &[
            "data/historic/sampling1.mapping",
            "data/historic/sampling2.mapping",
            "data/historic/sampling3.mapping",
        ],
        id_field: "id",
        tiebreaker: None,
    },
];

/// Several mapping files (indices queried together) as one `properties`
/// object: a field takes the type of the first index that maps it.
/// Elasticsearch's spec files start with `#` comment lines, which its
/// loader strips.
fn load_mapping(dir: &Path, files: &[&str]) -> serde_json::Map<String, Value> {
    let mut merged = serde_json::Map::new();
    for f in files {
        let text = std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        let json: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let value: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{f}: {e}"));
        if let Some(Value::Object(props)) = value.get("properties") {
            for (k, v) in props {
                merged.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    merged
}

/// Elasticsearch maps the fields its explicit mapping lacks as it indexes
/// the data (dynamic mapping): strings as `text` with a `keyword`
/// sub-field, integers as `long`, other numbers as `float`, booleans as
/// `boolean`, objects as `properties`.
fn add_dynamic(properties: &mut serde_json::Map<String, Value>, doc: &Value) {
    let Value::Object(fields) = doc else { return };
    for (k, v) in fields {
        let first = match v {
            Value::Array(items) => items.iter().find(|i| !i.is_null()),
            other => Some(other),
        };
        let entry = match first {
            Some(object @ Value::Object(_)) => {
                let slot = properties
                    .entry(k.clone())
                    .or_insert_with(|| json!({"properties": {}}));
                if let Some(Value::Object(inner)) = slot.get_mut("properties") {
                    add_dynamic(inner, object);
                }
                continue;
            }
            Some(Value::String(_)) => {
                json!({"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}})
            }
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => json!({"type": "long"}),
            Some(Value::Number(_)) => json!({"type": "float"}),
            Some(Value::Bool(_)) => json!({"type": "boolean"}),
            _ => continue,
        };
        properties.entry(k.clone()).or_insert(entry);
    }
}

struct Spec {
    file: String,
    name: String,
    query: String,
    /// Alternatives; one of them must be the answer.
    expected: Vec<Vec<i64>>,
    size: usize,
    /// The spec's own `size`, sent as the request parameter.
    size_param: Option<i64>,
    max_samples_per_key: Option<i64>,
    /// The spec's `join_keys`, flattened; empty: not checked.
    join_keys: Vec<String>,
}

/// One result: its events' ids and its join keys as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Answer {
    ids: Vec<i64>,
    keys: Vec<String>,
}

fn load_specs(dir: &Path, file: &str) -> Vec<Spec> {
    let text = std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let doc: toml::Value = toml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let queries = doc
        .get("queries")
        .and_then(|q| q.as_array())
        .unwrap_or_else(|| panic!("{file}: no [[queries]]"));
    let short = file
        .rsplit('/')
        .next()
        .unwrap_or(file)
        .trim_end_matches(".toml");
    queries
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let name = q
                .get("name")
                .and_then(|n| n.as_str())
                .map_or_else(|| format!("{short}#{}", i + 1), str::to_string);
            // Historic files reuse current names; keep them apart.
            let name = if file.contains("historic/") && !name.contains('#') {
                format!("{short}/{name}")
            } else {
                name
            };
            let query = q["query"].as_str().unwrap_or_default().trim().to_string();
            let ids = q["expected_event_ids"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let as_ids = |v: &[toml::Value]| -> Vec<i64> {
                v.iter().filter_map(toml::Value::as_integer).collect()
            };
            let expected = if ids.iter().any(|v| v.is_array()) {
                ids.iter()
                    .map(|alt| as_ids(alt.as_array().map_or(&[][..], |a| a)))
                    .collect()
            } else {
                vec![as_ids(&ids)]
            };
            let size_param = q.get("size").and_then(toml::Value::as_integer);
            let size = size_param.map_or(50, |s| s as usize);
            let max_samples_per_key = q
                .get("max_samples_per_key")
                .and_then(toml::Value::as_integer);
            // `test_sampling.toml` mixes booleans and strings; all are text here.
            let join_keys = q
                .get("join_keys")
                .and_then(toml::Value::as_array)
                .map(|keys| {
                    keys.iter()
                        .map(|k| match k {
                            toml::Value::String(s) => s.clone(),
                            toml::Value::Boolean(b) => b.to_string(),
                            toml::Value::Integer(i) => i.to_string(),
                            other => format!("{other:?}"),
                        })
                        .collect()
                })
                .unwrap_or_default();
            Spec {
                file: file.to_string(),
                name,
                query,
                expected,
                size,
                size_param,
                max_samples_per_key,
                join_keys,
            }
        })
        .collect()
}

/// The query's join key names, positionally: its `by`, then the first
/// stage's, as the engine names them in alerts.
fn key_names(query: &str) -> Vec<String> {
    match rule_core::syntax::parse(query) {
        Ok(q) => {
            q.by.iter()
                .chain(q.stages.first().map_or(&[][..], |s| &s.by[..]))
                .map(|f| f.path.clone())
                .collect()
        }
        Err(_) => Vec::new(),
    }
}

/// A key's value in an alert, by its dotted name, as the specs print it.
fn key_text(alert: &Value, name: &str) -> String {
    let mut at = alert;
    for part in name.split('.') {
        at = &at[part];
    }
    match at {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_string(),
        other => other.to_string(),
    }
}

/// What a backend answered: each result's ids and join keys.
fn run(
    detector: &mut dyn Detector,
    spec: &Spec,
    params: &Value,
    events: &[u8],
    id_field: &str,
) -> Result<Vec<Answer>, String> {
    let mut params = params.clone();
    if let Some(n) = spec.max_samples_per_key {
        params["max_samples_per_key"] = json!(n);
    }
    // With Elasticsearch's default `result_position`, `tail`: the last
    // results, let out at flush.
    if let Some(n) = spec.size_param {
        params["size"] = json!(n);
    }
    let config = json!({"rule": {"eql": spec.query}, "params": params});
    detector
        .configure(config.to_string().as_bytes())
        .map_err(|e| e.to_string())?;
    let outcome = detector.push_events(events).map_err(|e| e.to_string())?;
    if outcome.refused_count() > 0 {
        return Err(format!("events refused: {:?}", outcome.refused));
    }
    detector.flush().map_err(|e| e.to_string())?;
    let alerts = detector.drain_alerts().map_err(|e| e.to_string())?;
    let text = String::from_utf8(alerts).map_err(|e| e.to_string())?;
    let names = key_names(&spec.query);
    Ok(text
        .lines()
        .map(|alert| {
            let doc: Value = serde_json::from_str(alert).expect("alerts are JSON");
            let ids = doc["Events"]
                .as_array()
                .map(|events| {
                    events
                        .iter()
                        .map(|e| e[id_field].as_i64().unwrap_or(-1))
                        .collect()
                })
                .unwrap_or_default();
            let keys = names.iter().map(|n| key_text(&doc, n)).collect();
            Answer { ids, keys }
        })
        .collect())
}

/// Does the answer match, with Elasticsearch's `size` taken from the head
/// or the tail? Samples are compared as a set: Elasticsearch sorts them by
/// key, a stream gives each as it forms (the README says so); each sample's
/// events, and each result's keys, are compared in order.
fn matches(spec: &Spec, results: &[Answer], samples: bool) -> bool {
    let check_keys = !spec.join_keys.is_empty();
    let same = |got: &[Answer], want_ids: &[i64]| -> bool {
        let ids: Vec<i64> = got.iter().flat_map(|r| r.ids.clone()).collect();
        let keys: Vec<String> = got.iter().flat_map(|r| r.keys.clone()).collect();
        ids == want_ids && (!check_keys || keys == spec.join_keys)
    };
    if !samples {
        let head = &results[..results.len().min(spec.size)];
        let tail = &results[results.len().saturating_sub(spec.size)..];
        return spec.expected.iter().any(|e| same(head, e) || same(tail, e));
    }
    let mut got: Vec<Answer> = results[..results.len().min(spec.size)].to_vec();
    // Every sample has one event per stage and the same keys: the widths to cut at.
    let Some((width, key_width)) = got.first().map(|r| (r.ids.len(), r.keys.len())) else {
        return spec.expected.iter().any(Vec::is_empty);
    };
    if !check_keys {
        got.iter_mut().for_each(|r| r.keys.clear());
    }
    got.sort();
    spec.expected.iter().any(|e| {
        let mut want: Vec<Answer> = e
            .chunks(width.max(1))
            .enumerate()
            .map(|(i, ids)| Answer {
                ids: ids.to_vec(),
                keys: if check_keys {
                    spec.join_keys
                        .iter()
                        .skip(i * key_width)
                        .take(key_width)
                        .cloned()
                        .collect()
                } else {
                    Vec::new()
                },
            })
            .collect();
        want.sort();
        want == got
    })
}

fn known_failures() -> BTreeMap<String, String> {
    let path = fixtures_dir().join("conformance_known_failures.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let table: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    table
        .into_iter()
        .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
        .collect()
}

#[test]
fn elasticsearch_eql_specs_on_every_backend() {
    let dir = conformance_dir();
    let known = known_failures();
    let mut seen = BTreeMap::new();
    let mut table = String::new();
    let mut unexpected = Vec::new();
    let mut fixed = BTreeMap::new();
    let mut backends = all_backends();
    let names: Vec<String> = backends.iter().map(|b| b.backend().to_string()).collect();
    write!(table, "{:<42} {:>6}", "spec file", "total").unwrap();
    for name in &names {
        write!(table, " {:>10}", format!("{name} ok")).unwrap();
    }
    table.push('\n');
    let mut totals = vec![0usize; names.len()];
    let mut all_total = 0;
    for suite in SUITES {
        let text = std::fs::read_to_string(dir.join(suite.ndjson))
            .unwrap_or_else(|e| panic!("{}: {e}", suite.ndjson));
        let mut properties = load_mapping(&dir, suite.mappings);
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let doc: Value = serde_json::from_str(line).expect("spec data is JSON");
            add_dynamic(&mut properties, &doc);
        }
        let mut params = json!({
            "event_category_field": "event.category",
            "mapping": {"properties": properties},
        });
        if let Some(field) = suite.tiebreaker {
            params["tiebreaker_field"] = json!(field);
        }
        for file in suite.specs {
            let specs = load_specs(&dir, file);
            write!(table, "{:<42} {:>6}", file, specs.len()).unwrap();
            all_total += specs.len();
            for (b, detector) in backends.iter_mut().enumerate() {
                let mut pass = 0;
                for spec in &specs {
                    seen.insert(spec.name.clone(), ());
                    let outcome = run(
                        detector.as_mut(),
                        spec,
                        &params,
                        text.as_bytes(),
                        suite.id_field,
                    );
                    let samples = spec.query.starts_with("sample");
                    let ok = matches!(&outcome, Ok(r) if matches(spec, r, samples));
                    pass += usize::from(ok);
                    match (ok, known.contains_key(&spec.name)) {
                        (true, true) => {
                            fixed.insert(spec.name.clone(), ());
                        }
                        (false, false) => {
                            let got = match &outcome {
                                Ok(r) => format!(
                                    "{:?} keys {:?}",
                                    r.iter().map(|r| &r.ids).collect::<Vec<_>>(),
                                    r.iter().map(|r| &r.keys).collect::<Vec<_>>()
                                ),
                                Err(e) => e.clone(),
                            };
                            unexpected.push(format!(
                                "{} [{}] ({}, {}):\n    query:    {}\n    expected: {:?} keys {:?}\n    got:      {got}",
                                spec.name,
                                spec.file,
                                suite.name,
                                names[b],
                                spec.query.replace('\n', " "),
                                spec.expected,
                                spec.join_keys
                            ));
                        }
                        _ => {}
                    }
                }
                totals[b] += pass;
                write!(table, " {:>10}", pass).unwrap();
            }
            table.push('\n');
        }
    }
    write!(table, "{:<42} {:>6}", "all", all_total).unwrap();
    for t in &totals {
        write!(table, " {:>10}", t).unwrap();
    }
    println!("{table}");
    let stale: Vec<&String> = known.keys().filter(|k| !seen.contains_key(*k)).collect();
    assert!(
        stale.is_empty(),
        "the known failures name queries no spec has: {stale:?}"
    );
    assert!(
        unexpected.is_empty(),
        "{} spec queries fail that are not known failures:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    let fixed: Vec<&String> = fixed.keys().collect();
    assert!(
        fixed.is_empty(),
        "these known failures pass now; remove them from the list: {fixed:?}"
    );
}
