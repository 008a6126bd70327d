//! The README's main command: `rulehost run examples/sample.ndjson` prints the
//! alerts the sample's own `# expect:` comments name, and no others, on the
//! wasm module, natively and on the component.

use std::path::Path;
use std::process::Command;

fn sample() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sample.ndjson")
}

fn expected() -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(sample()).unwrap();
    let expect: Vec<Vec<String>> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# expect:"))
        .map(|ids| ids.split_whitespace().map(String::from).collect())
        .collect();
    assert!(expect.len() >= 3, "the sample promises alerts");
    expect
}

fn run(extra: &[&str]) -> Vec<Vec<String>> {
    let out = Command::new(env!("CARGO_BIN_EXE_rulehost"))
        .arg("run")
        .args(extra)
        .arg(sample())
        .output()
        .expect("rulehost runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "rulehost failed: {stderr}");
    assert!(
        stderr.contains(" 0 errors"),
        "the sample is clean: {stderr}"
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let alert: serde_json::Value = serde_json::from_str(line).unwrap();
            alert["Events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["event"]["id"].as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn the_sample_raises_exactly_what_its_comments_say() {
    assert_eq!(run(&[]), expected(), "wasm module");
    assert_eq!(run(&["--native"]), expected(), "native");
    // Without FILE: the component the workspace builds; `--` ends the flag.
    assert_eq!(run(&["--component", "--"]), expected(), "component");
}
