//! Field types as an Elasticsearch index mapping gives them.
//!
//! A query's meaning depends on the mapping: `==` on a `long` compares
//! numbers, on an `ip` addresses, on a `keyword` text; `length()` refuses a
//! number. [`Mapping::from_json`] reads the JSON of a mapping (what
//! `GET index/_mapping` returns, or its `properties`), resolving `alias`
//! fields to their target and `text` fields to their keyword sub-field as
//! EQL does. Without a mapping the compiler takes ECS's types (`ecs.rs`)
//! and, for other fields, infers each one's type from how the query uses it.
//!
//! `ignore_malformed` (per field, or the index setting
//! `index.mapping.ignore_malformed` beside the mappings) is read for the
//! types Elasticsearch honours it on (numbers, `boolean`, `date`, `ip`): a
//! value of such a field that does not parse is left out of the event
//! rather than refusing it, as Elasticsearch indexes the document without it.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};

use serde::{Deserialize, Serialize};

use crate::error::RuleError;
use crate::plan::{FieldType, ValueKind};

/// The mapped type of one field, as far as a query's meaning goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EsType {
    /// `keyword`, `constant_keyword`, `wildcard`, and `text` with a keyword
    /// sub-field (EQL uses the sub-field for exact tests).
    Keyword,
    /// `version`: a keyword whose order is software version precedence
    /// (`crate::version`).
    Version,
    /// `text` without a keyword sub-field: no exact value to test.
    Text,
    Long,
    Double,
    Boolean,
    Ip,
    /// `date`, `date_nanos`.
    Date,
    /// `object`, `nested`, `flattened`, `geo_point`, ...: not a value EQL reads.
    Other,
}

impl EsType {
    fn from_name(name: &str) -> EsType {
        match name {
            "keyword" | "constant_keyword" | "wildcard" | "match_only_text" => EsType::Keyword,
            "version" => EsType::Version,
            // Elasticsearch's spec loader picks `keyword` or `wildcard` at random.
            "[runtime_random_keyword_type]" => EsType::Keyword,
            "text" => EsType::Text,
            "long" | "integer" | "short" | "byte" | "unsigned_long" => EsType::Long,
            "double" | "float" | "half_float" | "scaled_float" => EsType::Double,
            "boolean" => EsType::Boolean,
            "ip" => EsType::Ip,
            "date" | "date_nanos" => EsType::Date,
            _ => EsType::Other,
        }
    }

    /// How the decoder reads the field and how scripts see it.
    pub fn read_as(self) -> Option<(FieldType, ValueKind)> {
        Some(match self {
            EsType::Keyword => (FieldType::Keyword, ValueKind::Keyword),
            EsType::Version => (FieldType::Keyword, ValueKind::Version),
            EsType::Long => (FieldType::Number, ValueKind::Long),
            EsType::Double => (FieldType::Number, ValueKind::Double),
            EsType::Boolean => (FieldType::Keyword, ValueKind::Bool),
            EsType::Ip => (FieldType::Ip, ValueKind::Ip),
            EsType::Date => (FieldType::Date, ValueKind::Date),
            EsType::Text | EsType::Other => return None,
        })
    }
}

/// A field's mapping entry: its type and the path its values are read from
/// (the target of an alias, the field itself otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappedField {
    pub ty: EsType,
    pub path: String,
    /// A value that does not fit `ty` is dropped, not the event.
    #[serde(default)]
    pub ignore_malformed: bool,
}

/// Field paths to their mapped types.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    fields: BTreeMap<String, MappedField>,
}

impl Mapping {
    /// Reads an Elasticsearch mapping: `{"properties": ...}`, or wrapped in
    /// `{"mappings": ...}` or `{"INDEX": {"mappings": ...}}`.
    pub fn from_json(text: &str) -> Result<Mapping, RuleError> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| RuleError::metadata(format!("mapping is not JSON: {e}")))?;
        let mut mapping = Mapping::default();
        let mut aliases = BTreeMap::new();
        let root = find_properties(&value)
            .ok_or_else(|| RuleError::metadata("mapping has no `properties`"))?;
        let index_ignores_malformed = find_settings(&value)
            .and_then(|settings| {
                settings
                    .get("index.mapping.ignore_malformed")
                    .or_else(|| settings.pointer("/index/mapping/ignore_malformed"))
                    .or_else(|| settings.pointer("/mapping/ignore_malformed"))
            })
            .and_then(as_flag)
            .unwrap_or(false);
        let mut walker = Walker {
            mapping: &mut mapping,
            aliases: &mut aliases,
            index_ignores_malformed,
        };
        walker.walk(root, "", 0)?;
        for (name, target) in aliases {
            let resolved = mapping.fields.get(&target).cloned().ok_or_else(|| {
                RuleError::metadata(format!("alias `{name}` points to unknown `{target}`"))
            })?;
            mapping.fields.insert(name, resolved);
        }
        Ok(mapping)
    }

    /// Adds or replaces one field.
    pub fn insert(&mut self, path: &str, ty: EsType) {
        self.fields.insert(
            path.to_string(),
            MappedField {
                ty,
                path: path.to_string(),
                ignore_malformed: false,
            },
        );
    }

    pub fn get(&self, path: &str) -> Option<&MappedField> {
        self.fields.get(path)
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

/// Mappings nest at most this deep; a deeper one is refused.
const MAX_MAPPING_DEPTH: usize = 32;

fn find_properties(
    value: &serde_json::Value,
) -> Option<&serde_json::Map<String, serde_json::Value>> {
    let object = value.as_object()?;
    if let Some(p) = object.get("properties") {
        return p.as_object();
    }
    if let Some(m) = object.get("mappings") {
        return find_properties(m);
    }
    // `GET index/_mapping`: one key, the index name.
    match object.values().next() {
        Some(inner) if object.len() == 1 => find_properties(inner),
        _ => None,
    }
}

/// The index settings that come with a mapping (`PUT index` takes both):
/// `{"settings": ...}` beside `mappings`, or under the index's name.
fn find_settings(value: &serde_json::Value) -> Option<&serde_json::Value> {
    let object = value.as_object()?;
    if let Some(settings) = object.get("settings") {
        return Some(settings);
    }
    match object.values().next() {
        Some(inner) if object.len() == 1 => find_settings(inner),
        _ => None,
    }
}

/// A boolean setting: Elasticsearch takes `true` and `"true"`.
fn as_flag(value: &serde_json::Value) -> Option<bool> {
    match value {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Whether Elasticsearch reads `ignore_malformed` on a field of this type;
/// elsewhere it has no effect (keyword values are never malformed).
fn honours_ignore_malformed(ty: EsType) -> bool {
    matches!(
        ty,
        EsType::Long | EsType::Double | EsType::Boolean | EsType::Ip | EsType::Date
    )
}

struct Walker<'a> {
    mapping: &'a mut Mapping,
    aliases: &'a mut BTreeMap<String, String>,
    index_ignores_malformed: bool,
}

impl Walker<'_> {
    fn walk(
        &mut self,
        properties: &serde_json::Map<String, serde_json::Value>,
        prefix: &str,
        depth: usize,
    ) -> Result<(), RuleError> {
        if depth > MAX_MAPPING_DEPTH {
            return Err(RuleError::metadata("mapping nests too deep"));
        }
        for (name, spec) in properties {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            let Some(spec) = spec.as_object() else {
                continue;
            };
            if let Some(inner) = spec.get("properties").and_then(|p| p.as_object()) {
                self.walk(inner, &path, depth + 1)?;
                continue;
            }
            let ty_name = spec
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or("object");
            if ty_name == "alias" {
                if let Some(target) = spec.get("path").and_then(|p| p.as_str()) {
                    self.aliases.insert(path, target.to_string());
                }
                continue;
            }
            let mut ty = EsType::from_name(ty_name);
            if ty == EsType::Text {
                let has_keyword =
                    spec.get("fields")
                        .and_then(|f| f.as_object())
                        .is_some_and(|subs| {
                            subs.values().any(|sub| {
                                let name = sub.get("type").and_then(|t| t.as_str()).unwrap_or("");
                                EsType::from_name(name) == EsType::Keyword
                            })
                        });
                if has_keyword {
                    ty = EsType::Keyword;
                }
            }
            let ignore_malformed = honours_ignore_malformed(ty)
                && spec
                    .get("ignore_malformed")
                    .and_then(as_flag)
                    .unwrap_or(self.index_ignores_malformed);
            self.mapping.fields.insert(
                path.clone(),
                MappedField {
                    ty,
                    path: path.clone(),
                    ignore_malformed,
                },
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_text_and_nesting() {
        let m = Mapping::from_json(
            r#"{"properties": {
                "event_type": {"type": "keyword"},
                "event": {"properties": {"category": {"type": "alias", "path": "event_type"}}},
                "pid": {"type": "long"},
                "file_name": {"type": "text", "fields": {"keyword": {"type": "keyword"}}},
                "body": {"type": "text"}
            }}"#,
        )
        .unwrap();
        let category = m.get("event.category").unwrap();
        assert_eq!(
            (category.ty, category.path.as_str()),
            (EsType::Keyword, "event_type")
        );
        assert_eq!(m.get("pid").unwrap().ty, EsType::Long);
        assert_eq!(m.get("file_name").unwrap().ty, EsType::Keyword);
        assert_eq!(m.get("body").unwrap().ty, EsType::Text);
        assert!(m.get("nothing").is_none());
    }

    #[test]
    fn ignore_malformed_per_field_and_from_the_index_settings() {
        let m = Mapping::from_json(
            r#"{"properties": {
                "a": {"type": "long", "ignore_malformed": true},
                "b": {"type": "ip"},
                "c": {"type": "keyword", "ignore_malformed": true}
            }}"#,
        )
        .unwrap();
        assert!(m.get("a").unwrap().ignore_malformed);
        assert!(!m.get("b").unwrap().ignore_malformed);
        // Keywords are never malformed: the parameter means nothing there.
        assert!(!m.get("c").unwrap().ignore_malformed);
        let m = Mapping::from_json(
            r#"{"settings": {"index": {"mapping": {"ignore_malformed": "true"}}},
                "mappings": {"properties": {
                    "a": {"type": "date"},
                    "b": {"type": "ip", "ignore_malformed": false}
                }}}"#,
        )
        .unwrap();
        assert!(m.get("a").unwrap().ignore_malformed);
        assert!(!m.get("b").unwrap().ignore_malformed);
        let m = Mapping::from_json(
            r#"{"idx": {"settings": {"index.mapping.ignore_malformed": true},
                "mappings": {"properties": {"a": {"type": "double"}}}}}"#,
        )
        .unwrap();
        assert!(m.get("a").unwrap().ignore_malformed);
    }
}
