//! `stats()`: rule-core's `Stats` as the JS `Stats` object.
//!
//! There is no mirror of `Stats` and `RuleStats` here: they are serialised
//! as rule-core declares them (snake_case, the names its JSON and the ABI
//! keep), then each struct's keys are renamed to camelCase, in their order.
//! So a counter added to rule-core reaches JavaScript with no change here;
//! its line in `shapes.rs`' `Stats` is still to be written, and the test
//! `stats_are_declared` says so. Only the objects that are structs are
//! renamed: the stats object and each of its `rules`. `errors` and
//! `ignoredMalformed` are maps whose keys are error kinds (`invalid_json`),
//! and `refusedRules`' keys are single words.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::values::to_js;

/// `stats` as a plain JS object with camelCase keys, in rule-core's order.
pub(crate) fn stats_to_js(stats: &rule_core::Stats) -> Result<JsValue, JsValue> {
    Ok(camel_case_keys(&to_js(stats)?))
}

/// A new object with `object`'s keys in camelCase, in the same order, and
/// the same values; the objects in its `rules` (a pack's `RuleStats`) get
/// camelCase keys too.
fn camel_case_keys(object: &JsValue) -> JsValue {
    let out = Object::new();
    for entry in Object::entries(object.unchecked_ref::<Object>()).iter() {
        let entry: Array = entry.unchecked_into();
        let key = entry.get(0).as_string().unwrap_or_default();
        let value = entry.get(1);
        if key == "rules" && Array::is_array(&value) {
            let rules: &Array = value.unchecked_ref();
            for (i, rule) in rules.iter().enumerate() {
                rules.set(u32::try_from(i).unwrap_or(u32::MAX), camel_case_keys(&rule));
            }
        }
        let _ = Reflect::set(&out, &JsValue::from_str(&camel_case(&key)), &value);
    }
    out.into()
}

/// `stage_matches` → `stageMatches`, as serde's `rename_all = "camelCase"`.
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `shapes.rs`, whose `TS_SHAPES` the wasm-bindgen macro takes in.
    const TS_SHAPES: &str = include_str!("shapes.rs");

    #[test]
    fn camel_case_is_serdes() {
        assert_eq!(camel_case("events"), "events");
        assert_eq!(camel_case("stage_matches"), "stageMatches");
        assert_eq!(camel_case("discarded_by_missing"), "discardedByMissing");
    }

    /// The fields of the TypeScript interface `name` in `TS_SHAPES`.
    fn declared(name: &str) -> Vec<String> {
        let start = TS_SHAPES
            .find(&format!("export interface {name} {{"))
            .unwrap();
        let body = &TS_SHAPES[start..];
        let body = &body[..body.find("\n}").unwrap()];
        body.lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| !l.starts_with("/**") && !l.is_empty())
            .map(|l| l[..l.find(['?', ':']).unwrap()].to_string())
            .collect()
    }

    fn camel_keys<T: serde::Serialize>(value: &T) -> Vec<String> {
        let value = serde_json::to_value(value).unwrap();
        let mut keys: Vec<String> = value
            .as_object()
            .unwrap()
            .keys()
            .map(|k| camel_case(k))
            .collect();
        keys.sort();
        keys
    }

    /// What `stats()` gives is what the declarations say, field for field.
    #[test]
    fn stats_are_declared() {
        let stats = rule_core::Stats {
            rules: vec![rule_core::RuleStats::default()],
            refused_rules: vec![rule_core::RefusedRuleStats {
                id: String::new(),
                name: String::new(),
                error: String::new(),
            }],
            ..rule_core::Stats::default()
        };
        let mut want = declared("Stats");
        want.sort();
        assert_eq!(camel_keys(&stats), want);
        let mut want = declared("RuleStats");
        want.sort();
        assert_eq!(camel_keys(&rule_core::RuleStats::default()), want);
    }
}
