//! docs/ABI.md stays true: its tables name every export and error code, and
//! its two hosts (Rust and JavaScript) run against the module.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use host_harness::{Detector, ABI_EXPORTS, BAD_POINTER, BATCH_PARTIAL, CONFIG_ERROR};
use rule_core::{ErrorKind, PushError};
use tests::{file_event, module_path, native, network_event, workspace};

#[path = "../../host-harness/examples/minimal_host.rs"]
mod minimal_host;

fn abi_md() -> String {
    let path = workspace().join("docs/ABI.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The body of the first fenced block that opens with ```lang.
fn code_block(doc: &str, lang: &str) -> String {
    let fence = format!("```{lang}\n");
    let start = doc
        .find(&fence)
        .unwrap_or_else(|| panic!("docs/ABI.md has no ```{lang} block"))
        + fence.len();
    let end = doc[start..].find("```\n").expect("the block is closed") + start;
    doc[start..end].to_string()
}

fn sample() -> (String, Vec<u8>) {
    let t0 = "2024-05-01T10:00:00.000Z";
    let t1 = "2024-05-01T10:00:01.000Z";
    let input = format!(
        "{}\n\n{{not json\n{}\n",
        network_event("n1", "e1", t0),
        file_event("f1", "e1", t1)
    );
    let mut d = native();
    d.push_events(input.as_bytes()).unwrap();
    d.flush().unwrap();
    let expected = d.drain_alerts().unwrap();
    assert_eq!(expected.iter().filter(|&&b| b == b'\n').count(), 1);
    (input, expected)
}

#[test]
fn every_export_is_in_the_table_with_its_signature() {
    let doc = abi_md();
    for (name, signature) in ABI_EXPORTS {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}(")))
            .unwrap_or_else(|| panic!("no row for `{name}` in the exports table"));
        assert!(
            row.contains(&format!("`{signature}`")),
            "the row for `{name}` lacks `{signature}`: {row}"
        );
    }
}

#[test]
fn every_error_code_is_in_the_table() {
    let doc = abi_md();
    let errors = [
        PushError::Empty,
        PushError::TooLarge { len: 0, max: 0 },
        PushError::InvalidUtf8 { offset: 0 },
        PushError::InvalidJson {
            message: String::new(),
        },
        PushError::NotAnObject,
        PushError::WrongType {
            field: String::new(),
            expected: "",
        },
        PushError::MalformedIp {
            field: String::new(),
            value: String::new(),
        },
        PushError::MissingTimestamp,
        PushError::BadTimestamp {
            value: String::new(),
        },
        PushError::BackPressure,
    ];
    assert_eq!(
        errors.len(),
        ErrorKind::ALL.len(),
        "a PushError is missing here"
    );
    for e in &errors {
        let row = format!("| `{}` | `{}` |", e.code(), e.kind().name());
        assert!(doc.contains(&row), "docs/ABI.md lacks the row {row}");
    }
    for code in [BATCH_PARTIAL, CONFIG_ERROR, BAD_POINTER] {
        assert!(
            doc.contains(&format!("| `{code}` |")),
            "docs/ABI.md lacks code {code}"
        );
    }
}

#[test]
fn the_rust_host_is_the_example_and_it_runs() {
    let example = workspace().join("host-harness/examples/minimal_host.rs");
    let file = std::fs::read_to_string(&example).unwrap();
    assert_eq!(
        code_block(&abi_md(), "rust"),
        file,
        "docs/ABI.md's Rust host differs from {}",
        example.display()
    );
    let (input, expected) = sample();
    let mut out = Vec::new();
    minimal_host::run(module_path(), input.as_bytes(), &mut out).unwrap();
    assert_eq!(
        out, expected,
        "the Rust host's alerts are the native engine's"
    );
}

#[test]
fn the_javascript_host_runs_under_node() {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: node is not installed; the JavaScript host was not run");
        return;
    }
    let dir = std::env::temp_dir().join(format!("rule-abi-js-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script: PathBuf = dir.join("host.mjs");
    std::fs::write(&script, code_block(&abi_md(), "js")).unwrap();
    let (input, expected) = sample();
    let mut child = Command::new("node")
        .arg(&script)
        .arg(module_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "node failed: {stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&expected),
        "the JavaScript host's alerts are the native engine's"
    );
    assert!(stderr.contains("line 3: invalid JSON"), "{stderr}");
    assert!(stderr.contains("\"alerts\":1"), "{stderr}");
}
