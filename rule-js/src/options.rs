//! The constructor's `options` (rule-core's `Limits`, in camelCase) and
//! `params` (Elasticsearch's EQL request parameters), checked: an unknown
//! name or a wrong value is a `RuleError`, never a default.

use rule_core::{Limits, Mapping, ResultPosition, Rule};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::errors::{clip, js_error, set, RULE_ERROR};

/// Limits from a JS options object (camelCase, every field optional).
pub(crate) fn limits_from(value: JsValue) -> Result<Limits, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Limits::default());
    }
    if !value.is_object() {
        return Err(options_error("options must be an object"));
    }
    // serde-wasm-bindgen reads only the fields it knows: catch typos here.
    for key in js_sys::Object::keys(value.unchecked_ref::<js_sys::Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        if !OPTION_NAMES.contains(&key.as_str()) {
            return Err(options_error(&format!(
                "unknown option {key:?}; the options are {}",
                OPTION_NAMES.join(", ")
            )));
        }
    }
    let options: Options = serde_wasm_bindgen::from_value(value).map_err(|e| {
        let why = e.to_string();
        let why = why.strip_prefix("Error: ").unwrap_or(&why);
        options_error(&format!(
            "options: {why} (each is a non-negative integer, or undefined for its default)"
        ))
    })?;
    let d = Limits::default();
    Ok(Limits {
        max_event_bytes: options.max_event_bytes.unwrap_or(d.max_event_bytes),
        max_pending_sequences: options
            .max_pending_sequences
            .unwrap_or(d.max_pending_sequences),
        max_state_bytes: options.max_state_bytes.unwrap_or(d.max_state_bytes),
        max_total_state_bytes: options
            .max_total_state_bytes
            .unwrap_or(d.max_total_state_bytes),
        max_buffered_alerts: options.max_buffered_alerts.unwrap_or(d.max_buffered_alerts),
        reorder_window_ms: options.reorder_window_ms.unwrap_or(d.reorder_window_ms),
        hash_seed: options.hash_seed.unwrap_or(d.hash_seed),
    })
}

/// `RuleEngineParams`, checked.
#[derive(Debug, Default)]
pub(crate) struct Params {
    timestamp_field: Option<String>,
    event_category_field: Option<String>,
    mapping: Option<Mapping>,
    max_samples_per_key: Option<usize>,
    tiebreaker_field: Option<String>,
    size: Option<u64>,
    result_position: Option<ResultPosition>,
}

impl Params {
    pub(crate) fn apply(&self, rule: &mut Rule) {
        if let Some(f) = &self.timestamp_field {
            rule.params.timestamp_field = Some(f.clone());
        }
        if let Some(f) = &self.event_category_field {
            rule.params.event_category_field = Some(f.clone());
        }
        if let Some(m) = &self.mapping {
            rule.params.mapping = Some(m.clone());
        }
        if let Some(f) = &self.tiebreaker_field {
            rule.params.tiebreaker_field = Some(f.clone());
        }
        if let Some(n) = self.max_samples_per_key {
            rule.params.max_samples_per_key = Some(n);
        }
        if let Some(n) = self.size {
            rule.params.size = Some(n);
        }
        if let Some(position) = self.result_position {
            rule.params.result_position = position;
        }
    }
}

pub(crate) fn params_from(value: JsValue) -> Result<Params, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Params::default());
    }
    let json: serde_json::Value =
        serde_wasm_bindgen::from_value(value).map_err(|e| params_error(&format!("params: {e}")))?;
    let serde_json::Value::Object(map) = json else {
        return Err(params_error("params must be an object"));
    };
    let mut params = Params::default();
    for (key, value) in map {
        match (key.as_str(), value) {
            ("timestampField", serde_json::Value::String(s)) => params.timestamp_field = Some(s),
            ("tiebreakerField", serde_json::Value::String(s)) => {
                params.tiebreaker_field = Some(s)
            }
            ("eventCategoryField", serde_json::Value::String(s)) => {
                params.event_category_field = Some(s)
            }
            ("mapping", m @ serde_json::Value::Object(_)) => {
                let mapping = Mapping::from_json(&m.to_string())
                    .map_err(|e| params_error(&format!("params.mapping: {}", e.message)))?;
                params.mapping = Some(mapping);
            }
            ("maxSamplesPerKey", serde_json::Value::Number(n)) if n.as_u64().is_some_and(|n| n > 0) => {
                params.max_samples_per_key = n.as_u64().and_then(|n| usize::try_from(n).ok());
            }
            ("maxSamplesPerKey", _) => {
                return Err(params_error("params.maxSamplesPerKey must be a positive integer"))
            }
            ("size", serde_json::Value::Number(n)) if n.as_u64().is_some() => {
                params.size = n.as_u64();
            }
            ("size", _) => return Err(params_error("params.size must be a whole number")),
            ("resultPosition", value) => {
                params.result_position = Some(
                    value
                        .as_str()
                        .and_then(ResultPosition::from_name)
                        .ok_or_else(|| {
                            params_error(r#"params.resultPosition must be "head" or "tail""#)
                        })?,
                );
            }
            ("timestampField" | "eventCategoryField" | "tiebreakerField" | "mapping", _) => {
                return Err(params_error(&format!(
                    "params.{key} must be {}",
                    if key == "mapping" { "an object" } else { "a string" }
                )))
            }
            (other, _) => {
                return Err(params_error(&format!(
                    "unknown param {other:?}; the params are timestampField, eventCategoryField, tiebreakerField, mapping, maxSamplesPerKey, size, resultPosition"
                )))
            }
        }
    }
    Ok(params)
}

fn params_error(message: &str) -> JsValue {
    let err = js_error(&clip(message.into()), RULE_ERROR, "params", "RuleError");
    set(&err, "reason", &JsValue::from_str(message));
    err
}

fn options_error(message: &str) -> JsValue {
    let err = js_error(&clip(message.into()), RULE_ERROR, "options", "RuleError");
    set(&err, "reason", &JsValue::from_str(message));
    err
}

/// The fields of [`Options`], as JS spells them.
const OPTION_NAMES: [&str; 7] = [
    "maxEventBytes",
    "maxPendingSequences",
    "maxStateBytes",
    "maxTotalStateBytes",
    "maxBufferedAlerts",
    "reorderWindowMs",
    "hashSeed",
];

/// `Limits` in camelCase, for the constructor and the `limits` getter.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Options {
    #[serde(default)]
    max_event_bytes: Option<usize>,
    #[serde(default)]
    max_pending_sequences: Option<usize>,
    #[serde(default)]
    max_state_bytes: Option<usize>,
    #[serde(default)]
    max_total_state_bytes: Option<usize>,
    #[serde(default)]
    max_buffered_alerts: Option<usize>,
    #[serde(default)]
    reorder_window_ms: Option<u64>,
    #[serde(default)]
    hash_seed: Option<u64>,
}

impl From<&Limits> for Options {
    fn from(l: &Limits) -> Self {
        Options {
            max_event_bytes: Some(l.max_event_bytes),
            max_pending_sequences: Some(l.max_pending_sequences),
            max_state_bytes: Some(l.max_state_bytes),
            max_total_state_bytes: Some(l.max_total_state_bytes),
            max_buffered_alerts: Some(l.max_buffered_alerts),
            reorder_window_ms: Some(l.reorder_window_ms),
            hash_seed: Some(l.hash_seed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_names_are_the_options_fields() {
        let value = serde_json::to_value(Options::from(&Limits::default())).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut names = OPTION_NAMES.to_vec();
        names.sort_unstable();
        assert_eq!(keys, names);
    }
}
