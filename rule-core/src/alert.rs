//! Alert documents, modelled on Elastic Defend's behavior alerts: the rule's
//! metadata and MITRE mapping (rendered once per rule), the join key values,
//! and `Events`, the matched events exactly as they were pushed.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use serde_json::{json, Map, Value};

use crate::rule::RuleMeta;
use crate::sequence::Key;
use crate::time::format_rfc3339_ms;

/// Everything an alert of this rule has in common, pre-rendered.
#[derive(Debug, Clone)]
pub struct AlertTemplate {
    /// `"event":{...},...,"kibana":{...}`: the shared middle of every alert.
    body: String,
    key_names: Vec<String>,
}

impl AlertTemplate {
    pub fn new(meta: &RuleMeta, key_names: Vec<String>) -> AlertTemplate {
        let shared = json!({
            "event": {
                "kind": "alert",
                "category": ["intrusion_detection"],
                "type": ["info"],
                "severity": meta.severity_score(),
                "risk_score": meta.risk_score,
            },
            "message": meta.name,
            "rule": {
                "id": meta.id,
                "uuid": meta.id,
                "name": meta.name,
                "description": meta.description,
                "version": alloc::format!("{}", meta.version),
                "license": meta.license,
                "author": meta.author,
            },
            "threat": meta.threat,
            "kibana": { "alert": { "severity": meta.severity, "risk_score": meta.risk_score } },
        });
        let mut shared = shared;
        if let Some(kind) = &meta.building_block_type {
            // Kibana marks a building block's alerts so that they stay out
            // of the analyst's view.
            shared["kibana"]["alert"]["building_block_type"] = Value::String(kind.clone());
        }
        let text = serde_json::to_string(&shared).unwrap_or_default();
        // Keep the members without the braces, to splice between others.
        let body = text
            .get(1..text.len().saturating_sub(1))
            .unwrap_or("")
            .into();
        AlertTemplate { body, key_names }
    }

    /// One alert for a completed sequence.
    pub fn render(&self, last_ts: i64, key: &Key, events: &[Arc<str>]) -> String {
        let mut keys = Map::new();
        for (name, value) in self.key_names.iter().zip(key.values()) {
            let value = value.map_or(Value::Null, |v| Value::String(String::from(v)));
            insert_path(&mut keys, name, value);
        }
        let keys = serde_json::to_string(&Value::Object(keys)).unwrap_or_default();
        let keys = keys.get(1..keys.len().saturating_sub(1)).unwrap_or("");
        let events_len: usize = events.iter().map(|e| e.len() + 1).sum();
        let mut out = String::with_capacity(self.body.len() + keys.len() + events_len + 64);
        out.push_str("{\"@timestamp\":\"");
        out.push_str(&format_rfc3339_ms(last_ts));
        out.push_str("\",");
        out.push_str(&self.body);
        if !keys.is_empty() {
            out.push(',');
            out.push_str(keys);
        }
        out.push_str(",\"Events\":[");
        for (i, e) in events.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(e);
        }
        out.push_str("]}");
        out
    }
}

/// Puts `value` at a dotted path, nesting objects (`host.id` → `{"host":{"id":..}}`);
/// where a path runs into a value already there, the dotted key is kept flat.
fn insert_path(map: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            map.insert(String::from(path), value);
        }
        Some((head, rest)) => match map
            .entry(String::from(head))
            .or_insert_with(|| Value::Object(Map::new()))
        {
            Value::Object(inner) => insert_path(inner, rest, value),
            _ => {
                map.insert(String::from(path), value);
            }
        },
    }
}
