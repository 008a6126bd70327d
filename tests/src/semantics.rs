//! The semantics table of rule-core (`tests/fixtures/semantics.json`), as
//! the tests that replay it read it:
//! `{"cases": [{"row": "S1", "name": "...", "rule": null | "EQL",
//!   "events": [{...}, ...], "expect": [["event-id-a", "event-id-b"], ...],
//!   "errors": [{"index": 3, "code": -7}]}]}`.

use serde::Deserialize;
use serde_json::Value;

use crate::fixtures_dir;

#[derive(Deserialize)]
pub struct Table {
    pub cases: Vec<Case>,
}

#[derive(Deserialize)]
pub struct Case {
    pub row: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub rule: Option<String>,
    pub events: Vec<Value>,
    #[serde(default)]
    pub expect: Vec<Vec<String>>,
    #[serde(default)]
    pub errors: Vec<ExpectedError>,
}

#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExpectedError {
    pub index: usize,
    pub code: i32,
}

/// The table, read and parsed; a missing or broken file fails the test.
pub fn table() -> Table {
    let path = fixtures_dir().join("semantics.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the semantics table {} is missing: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not a semantics table: {e}", path.display()))
}
