//! `rulehost run` end to end: both backends give the same alerts, refused
//! lines are reported by file and line, the summary goes to stderr.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use host_harness::{build_module, workspace_dir};

fn module() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| build_module(&workspace_dir()).expect("the module builds"))
}

fn rulehost(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rulehost"))
        .args(args)
        .output()
        .expect("rulehost runs")
}

fn event(id: &str, stage: &str, ts: &str) -> String {
    let specific = if stage == "network" {
        r#""event":{"id":"ID","category":["network"],"type":["start"],"action":"connection_attempted"},"destination":{"ip":"93.184.216.34"}"#
    } else {
        r#""event":{"id":"ID","category":["file"],"type":["creation"]},"file":{"path":"/tmp/x.sh","name":"x.sh","extension":"sh"}"#
    };
    format!(
        r#"{{"@timestamp":"{ts}","host":{{"id":"h1","os":{{"type":"linux"}}}},"process":{{"entity_id":"p1","executable":"/tmp/agent"}},{}}}"#,
        specific.replace("ID", id)
    )
}

fn input_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rulehost-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn run_gives_the_same_alerts_in_both_backends() {
    let text = [
        event("n1", "network", "2024-05-01T10:00:00Z"),
        String::new(),
        "{broken".to_string(),
        event("f1", "file", "2024-05-01T10:00:01Z"),
    ]
    .join("\n");
    let input = input_file("events.ndjson", &text);
    let input = input.to_str().unwrap();
    let wasm = rulehost(&["run", "--module", module().to_str().unwrap(), input]);
    let native = rulehost(&["run", "--native", input]);
    for (name, out) in [("wasm", &wasm), ("native", &native)] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {stderr}");
        assert!(
            stderr.contains(&format!("{input}:3: invalid JSON")),
            "{name}: {stderr}"
        );
        assert!(
            stderr.contains(&format!("{name} backend: 2 events, ")),
            "{name}: {stderr}"
        );
        assert!(stderr.contains("1 alerts, 1 errors"), "{name}: {stderr}");
        assert!(stderr.contains("events/s"), "{name}: {stderr}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).lines().count(),
            1,
            "{name}"
        );
    }
    assert_eq!(wasm.stdout, native.stdout, "byte for byte the same alerts");
}

#[test]
fn a_bad_rule_file_is_named_with_line_and_column() {
    let rule = input_file(
        "bad.eql",
        "sequence by host.id with maxspan=5s\n  [network where x == ]\n  [file where true]\n",
    );
    let input = input_file("empty.ndjson", "");
    for backend in ["--native", "--module"] {
        let mut args = vec!["run", backend];
        if backend == "--module" {
            args.push(module().to_str().unwrap());
        }
        args.extend(["--rule", rule.to_str().unwrap(), input.to_str().unwrap()]);
        let out = rulehost(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{backend}: {stderr}");
        assert!(stderr.contains("bad.eql"), "{backend}: {stderr}");
        assert!(stderr.contains("line 2, column"), "{backend}: {stderr}");
    }
}

#[test]
fn help_names_the_run_command() {
    let out = rulehost(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("run"), "{help}");
    let out = rulehost(&["run", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--module",
        "--native",
        "--component [<FILE>]",
        "--rule",
        "[INPUT]...",
    ] {
        assert!(help.contains(flag), "run --help lacks {flag}: {help}");
    }
}

#[test]
fn a_mapping_and_the_event_category_field_reach_the_rule() {
    let mapping = input_file(
        "mapping.json",
        r#"{"properties": {"kind": {"type": "keyword"}, "pid": {"type": "long"},
            "event": {"properties": {"category": {"type": "alias", "path": "kind"}}}}}"#,
    );
    let rule = input_file("rule.eql", "process where pid / 2 == 1");
    let events = input_file(
        "mapped.ndjson",
        concat!(
            r#"{"@timestamp":"2024-05-01T10:00:00Z","kind":"process","pid":3,"type":"start"}"#,
            "\n",
            r#"{"@timestamp":"2024-05-01T10:00:01Z","kind":"process","pid":4,"type":"start"}"#,
            "\n"
        ),
    );
    let (rule, mapping, events) = (
        rule.to_str().unwrap(),
        mapping.to_str().unwrap(),
        events.to_str().unwrap(),
    );
    let out = rulehost(&[
        "run",
        "--native",
        "--rule",
        rule,
        "--mapping",
        mapping,
        events,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    // `process where` reads another field when told to.
    let by_type = input_file("rule2.eql", "start where true");
    let out = rulehost(&[
        "run",
        "--native",
        "--rule",
        by_type.to_str().unwrap(),
        "--event-category-field",
        "type",
        events,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    // A field the mapping lacks is refused, with its place.
    let unknown = input_file("rule3.eql", "process where nosuch == 1");
    let out = rulehost(&[
        "run",
        "--native",
        "--rule",
        unknown.to_str().unwrap(),
        "--mapping",
        mapping,
        events,
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `nosuch`"));
}

fn shared_rules() -> PathBuf {
    workspace_dir().join("../shared/detection-rules")
}

#[test]
fn rules_check_compiles_elastics_whole_rule_set() {
    let out = rulehost(&["rules", "check", shared_rules().to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("1024 rules compiled, 0 refused"),
        "{stdout}"
    );
    assert!(stdout.contains("linux"), "{stdout}");
}

#[test]
fn rules_check_names_a_refused_rule_and_fails() {
    let bad = rule_core::EMBEDDED_RULE_TOML.replace("maxspan=5s", "maxspan=5s oops");
    let path = input_file("bad-rule.toml", &bad);
    let out = rulehost(&["rules", "check", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let line = bad.lines().position(|l| l.contains("oops")).unwrap() + 1;
    assert!(
        stdout.contains(&format!("bad-rule.toml:{line}:")),
        "{stdout}"
    );
    assert!(stdout.contains("0 rules compiled, 1 refused"), "{stdout}");
}

#[test]
fn run_with_the_linux_pack_names_each_alerts_rule_in_both_backends() {
    let list = shared_rules().join("linux-defend.txt");
    let sample = workspace_dir().join("examples/sample.ndjson");
    let (list, sample) = (list.to_str().unwrap(), sample.to_str().unwrap());
    let wasm = rulehost(&[
        "run",
        "--module",
        module().to_str().unwrap(),
        "--rules",
        list,
        sample,
    ]);
    let native = rulehost(&["run", "--native", "--rules", list, sample]);
    for (name, out) in [("wasm", &wasm), ("native", &native)] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {stderr}");
        assert!(
            stderr.contains("pack: 327 rules run, 0 refused"),
            "{name}: {stderr}"
        );
    }
    assert_eq!(wasm.stdout, native.stdout);
    let names: Vec<String> = String::from_utf8_lossy(&native.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["rule"]["name"].as_str().unwrap().to_string()
        })
        .collect();
    // The seed rule's four, and another Linux rule's.
    let seed = names
        .iter()
        .filter(|n| *n == "Network Connection Followed by File Creation")
        .count();
    assert_eq!(seed, 4, "{names:?}");
    assert!(names.len() > seed, "{names:?}");
}

#[test]
fn example_events_make_the_rule_alert_and_its_near_misses_do_not() {
    let rule = shared_rules().join("rules/linux/command_and_control_netcon_file_creation.toml");
    let rule = rule.to_str().unwrap();
    let out = rulehost(&["example", "--near-misses", rule]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // The positives alone, then each near miss alone, through `run`.
    let mut parts: Vec<(String, Vec<&str>)> = vec![(String::new(), Vec::new())];
    for line in text.lines() {
        if let Some(what) = line.strip_prefix("# near miss (must not alert): ") {
            parts.push((what.to_string(), Vec::new()));
        } else if !line.starts_with('#') {
            parts.last_mut().unwrap().1.push(line);
        }
    }
    assert!(parts.len() >= 3, "{text}");
    for (i, (what, events)) in parts.iter().enumerate() {
        let input = input_file(&format!("example-{i}.ndjson"), &events.join("\n"));
        let run = rulehost(&["run", "--native", "--rule", rule, input.to_str().unwrap()]);
        let alerts = String::from_utf8_lossy(&run.stdout).lines().count();
        if i == 0 {
            assert_eq!(alerts, 1, "the example must alert");
        } else {
            assert_eq!(alerts, 0, "near miss `{what}` alerted");
        }
    }
}
