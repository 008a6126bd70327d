//! A rule: its EQL query and the metadata an alert carries (id, severity,
//! risk score, MITRE mapping), read from Elastic's detection-rules TOML.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::error::{Position, RuleError};
use crate::mapping::Mapping;

/// Elastic's rule file, embedded: the engine's default rule.
pub const EMBEDDED_RULE_TOML: &str = include_str!("../rule.toml");

/// A detection rule: an EQL query plus what an alert says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub query: String,
    pub meta: RuleMeta,
    /// How the query reads events: Elasticsearch's EQL request parameters.
    #[serde(default)]
    pub params: QueryParams,
    /// The rule's `index` patterns (`logs-endpoint.events.process*`): an
    /// event whose index is known runs the rule only when one matches.
    /// Empty: every event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub index: Vec<String>,
}

/// Elasticsearch's EQL request parameters that change what a query means.
/// Every one is optional; the defaults are Elasticsearch's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueryParams {
    /// The event time (`@timestamp`). A rule's `timestamp_override` does not
    /// set it: Kibana uses the override for its search window only, and
    /// sequences keep event time.
    pub timestamp_field: Option<String>,
    /// Orders events of the same time (a missing value after a present
    /// one), as Elasticsearch does; a number or a date here. Without it,
    /// events of the same time keep their arrival order.
    pub tiebreaker_field: Option<String>,
    /// What `process where` tests (`event.category`); a rule's
    /// `event_category_override`.
    pub event_category_field: Option<String>,
    /// The index mapping; without one, types are inferred from the query.
    pub mapping: Option<Mapping>,
    /// Samples per join key a `sample` query gives (Elasticsearch's
    /// `max_samples_per_key`, 1 by default).
    pub max_samples_per_key: Option<usize>,
    /// `size`: at most this many results. Unset, every result: on a
    /// stream, Elasticsearch's default of 10 would silence a rule for good
    /// after its tenth alert.
    pub size: Option<u64>,
    /// `result_position`: with `size`, the first results as they form
    /// (`head`), or the last ones, let out at [`crate::Engine::flush`]
    /// (`tail`, Elasticsearch's default).
    pub result_position: ResultPosition,
}

/// Which results `size` keeps, as Elasticsearch's `result_position`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultPosition {
    Head,
    #[default]
    Tail,
}

impl ResultPosition {
    /// `"head"` or `"tail"`, as the request parameter spells it.
    pub fn from_name(name: &str) -> Option<ResultPosition> {
        match name {
            "head" => Some(ResultPosition::Head),
            "tail" => Some(ResultPosition::Tail),
            _ => None,
        }
    }
}

impl QueryParams {
    pub fn timestamp_field(&self) -> &str {
        self.timestamp_field.as_deref().unwrap_or("@timestamp")
    }

    pub fn event_category_field(&self) -> &str {
        self.event_category_field
            .as_deref()
            .unwrap_or("event.category")
    }
}

/// What an alert tells about the rule that raised it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMeta {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_version")]
    pub version: u32,
    #[serde(default)]
    pub license: String,
    #[serde(default)]
    pub author: Vec<String>,
    #[serde(default = "default_severity")]
    pub severity: String,
    #[serde(default = "default_risk_score")]
    pub risk_score: u32,
    #[serde(default)]
    pub threat: Vec<Threat>,
    /// `building_block_type` (`"default"`): the rule feeds other rules
    /// rather than an analyst, and its alerts say so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_block_type: Option<String>,
}

fn default_version() -> u32 {
    1
}
fn default_severity() -> String {
    "low".to_string()
}
fn default_risk_score() -> u32 {
    21
}

/// One `[[rule.threat]]` entry, as detection-rules and Kibana write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threat {
    pub framework: String,
    pub tactic: ThreatRef,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub technique: Vec<Technique>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreatRef {
    pub id: String,
    pub name: String,
    pub reference: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Technique {
    pub id: String,
    pub name: String,
    pub reference: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subtechnique: Vec<ThreatRef>,
}

#[derive(Deserialize)]
struct RuleFile {
    rule: RuleSection,
}

#[derive(Deserialize)]
struct RuleSection {
    rule_id: String,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    version: Option<u32>,
    #[serde(default)]
    license: String,
    #[serde(default)]
    author: Vec<String>,
    #[serde(default = "default_severity")]
    severity: String,
    #[serde(default = "default_risk_score")]
    risk_score: u32,
    #[serde(default)]
    threat: Vec<Threat>,
    #[serde(default)]
    building_block_type: Option<String>,
    #[serde(default)]
    index: Vec<String>,
    language: String,
    query: String,
    #[serde(default)]
    tiebreaker_field: Option<String>,
    #[serde(default)]
    event_category_override: Option<String>,
}

impl Rule {
    /// The rule this crate ships: Elastic's `rule.toml`, parsed.
    pub fn embedded() -> Rule {
        // The embedded file is part of the crate and checked by a test, so
        // failing here is a build defect, not bad input.
        Rule::from_toml(EMBEDDED_RULE_TOML).expect("embedded rule.toml is valid")
    }

    /// Reads a detection-rules TOML file (`[rule]` with `query`, `rule_id`,
    /// `name`, `severity`, `risk_score`, `[[rule.threat]]`, ...).
    pub fn from_toml(text: &str) -> Result<Rule, RuleError> {
        let file: RuleFile = toml::from_str(text)
            .map_err(|e| RuleError::metadata(alloc::format!("rule TOML: {e}")))?;
        let r = file.rule;
        if r.language != "eql" {
            return Err(RuleError::metadata(alloc::format!(
                "rule language is {:?}; only \"eql\" runs here",
                r.language
            )));
        }
        Ok(Rule {
            query: r.query,
            meta: RuleMeta {
                id: r.rule_id,
                name: r.name,
                description: r.description,
                version: r.version.unwrap_or(1),
                license: r.license,
                author: r.author,
                severity: r.severity,
                risk_score: r.risk_score,
                threat: r.threat,
                building_block_type: r.building_block_type,
            },
            params: QueryParams {
                tiebreaker_field: r.tiebreaker_field,
                event_category_field: r.event_category_override,
                ..QueryParams::default()
            },
            index: r.index,
        })
    }

    /// A rule from bare EQL text, with the embedded rule's metadata unless
    /// the caller supplies its own.
    pub fn from_eql(query: impl Into<String>, meta: Option<RuleMeta>) -> Rule {
        Rule {
            query: query.into(),
            meta: meta.unwrap_or_else(|| Rule::embedded().meta),
            params: QueryParams::default(),
            index: Vec::new(),
        }
    }
}

impl Rule {
    /// Where a position in the query lies in the rule file `file` the rule
    /// was read from, so that an error points at the file's own lines;
    /// `None` when the query is not in the file as it is (a TOML string
    /// with escapes).
    pub fn position_in_file(&self, file: &str, at: Position) -> Option<Position> {
        let start = file.find(self.query.as_str())?;
        let origin = text_position(file, start);
        Some(if at.line == 1 {
            Position {
                line: origin.line,
                column: origin.column.saturating_add(at.column.saturating_sub(1)),
            }
        } else {
            Position {
                line: origin.line.saturating_add(at.line.saturating_sub(1)),
                column: at.column,
            }
        })
    }
}

/// The 1-based line and column (in characters) of byte `at` of `text`.
pub fn text_position(text: &str, at: usize) -> Position {
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).unwrap_or("").chars().count() + 1;
    Position {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
    }
}

impl RuleMeta {
    /// Metadata for a rule known by nothing but an id and a name (a bare
    /// EQL query in a pack): no description, author or threat; severity
    /// `low`, risk score 21, as Kibana's defaults.
    pub fn named(id: impl Into<String>, name: impl Into<String>) -> RuleMeta {
        RuleMeta {
            id: id.into(),
            name: name.into(),
            description: String::new(),
            version: default_version(),
            license: String::new(),
            author: Vec::new(),
            severity: default_severity(),
            risk_score: default_risk_score(),
            threat: Vec::new(),
            building_block_type: None,
        }
    }

    /// ECS `event.severity` is a number; Kibana maps the four severities to
    /// these default scores.
    pub fn severity_score(&self) -> u32 {
        match self.severity.as_str() {
            "low" => 21,
            "medium" => 47,
            "high" => 73,
            "critical" => 99,
            _ => self.risk_score,
        }
    }
}
