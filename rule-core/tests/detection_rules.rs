//! Elastic's detection rules (`../shared/detection-rules`): every EQL rule
//! must compile; a refusal fails the test with the file, line, column and
//! reason.

use std::path::{Path, PathBuf};

use rule_core::{Engine, Limits, Rule};

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            toml_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "toml") {
            out.push(path);
        }
    }
}

#[test]
fn every_elastic_eql_rule_compiles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/detection-rules");
    let mut files = Vec::new();
    toml_files(&root, &mut files);
    files.sort();
    let (mut eql, mut compiled) = (0, 0);
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let name = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        let rule = match Rule::from_toml(&text) {
            Ok(rule) => rule,
            // KQL, ES|QL, machine learning, threshold rules: not EQL.
            Err(e) if e.message.contains("only \"eql\"") => continue,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        eql += 1;
        match Engine::new(rule, Limits::default()) {
            Ok(_) => compiled += 1,
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    println!("{compiled} of {eql} EQL rules compile");
    assert!(
        eql >= 1000,
        "only {eql} EQL rules found under {}",
        root.display()
    );
    assert!(
        failures.is_empty(),
        "{} rules refused:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
