//! Elastic's detection rules (`../shared/detection-rules`): every EQL rule
//! must compile; a refusal fails the test with the file, line, column and
//! reason.

use std::path::Path;

use rule_core::{Engine, Limits, Rule};

mod rule_files;
use rule_files::toml_files;

#[test]
fn every_elastic_eql_rule_compiles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/detection-rules");
    let files = toml_files(&root);
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
