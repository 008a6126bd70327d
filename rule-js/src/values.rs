//! Values across the boundary: an event in (a string, bytes or an object),
//! and results out as plain JS values, through serde types that give
//! rule-core's in the shapes `shapes.rs` declares.

use js_sys::{Error as JsErrorObject, Uint8Array};
use rule_core::PushError;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::errors::{clip, js_error, RULE_ERROR};

/// The bytes of an event given as a string, bytes, or a value for `JSON.stringify`.
pub(crate) fn event_bytes(value: &JsValue) -> Result<Vec<u8>, JsValue> {
    if let Some(text) = value.as_string() {
        return Ok(text.into_bytes());
    }
    if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
        return Ok(bytes.to_vec());
    }
    match js_sys::JSON::stringify(value) {
        // `undefined`, a function or a symbol stringify to `undefined`: as
        // `null`, the engine refuses (and counts) it as not an object.
        Ok(json) => Ok(JsValue::from(json)
            .as_string()
            .unwrap_or_else(|| "null".into())
            .into_bytes()),
        Err(e) => {
            // A cycle or a BigInt: never reached the engine, so not counted.
            let why = e
                .dyn_ref::<JsErrorObject>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| "JSON.stringify failed".into());
            Err(js_error(
                &clip(format!(
                    "invalid JSON: the event cannot be turned to JSON: {why}"
                )),
                PushError::InvalidJson {
                    message: String::new(),
                }
                .code(),
                "invalid_json",
                "EventError",
            ))
        }
    }
}

/// Serialises to plain JS values: objects (not `Map`s) and numbers.
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| js_error(&format!("internal: {e}"), RULE_ERROR, "internal", "Error"))
}

/// `rule_core::Example` for JS (its `unexpected` left out: near misses
/// the engine did not confirm are no evidence).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JsExample {
    positives: Vec<String>,
    near_misses: Vec<JsNearMiss>,
}

#[derive(Serialize)]
struct JsNearMiss {
    what: String,
    events: Vec<String>,
}

impl From<rule_core::Example> for JsExample {
    fn from(example: rule_core::Example) -> Self {
        JsExample {
            positives: example.positives,
            near_misses: example
                .near_misses
                .into_iter()
                .map(|n| JsNearMiss {
                    what: n.what,
                    events: n.events,
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Report {
    taken: usize,
    refused: Vec<Refused>,
    alerts_pending: usize,
}

#[derive(Serialize)]
struct Refused {
    line: usize,
    code: i32,
    kind: &'static str,
    message: String,
}

impl From<&rule_core::BatchReport> for Report {
    fn from(report: &rule_core::BatchReport) -> Self {
        Report {
            taken: report.taken,
            refused: report
                .refused
                .iter()
                .map(|(line, e)| Refused {
                    line: *line,
                    code: e.code(),
                    kind: e.kind().name(),
                    message: clip(e.to_string()),
                })
                .collect(),
            alerts_pending: report.alerts_pending,
        }
    }
}

#[derive(Serialize)]
pub(crate) struct JsExplanation {
    timestamp: Option<i64>,
    time: Option<String>,
    stages: Vec<JsStage>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsStage {
    stage: usize,
    passes: bool,
    joins: bool,
    join_keys: Vec<rule_core::FieldValues>,
    filter: rule_core::Node,
}

impl From<rule_core::Explanation> for JsExplanation {
    fn from(e: rule_core::Explanation) -> Self {
        JsExplanation {
            timestamp: e.timestamp,
            time: e.timestamp.map(rule_core::time::format_rfc3339_ms),
            stages: e
                .stages
                .into_iter()
                .map(|s| JsStage {
                    stage: s.stage,
                    passes: s.passes,
                    joins: s.joins,
                    join_keys: s.join_keys,
                    filter: s.filter,
                })
                .collect(),
        }
    }
}
