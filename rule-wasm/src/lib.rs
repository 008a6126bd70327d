//! rule-core as a WebAssembly module.
//!
//! Built for `wasm32-unknown-unknown`, this crate is a module that imports
//! nothing and exports the small C ABI described in `docs/ABI.md`:
//! `abi_version`, `alloc`, `dealloc`, `configure`, `push_event`,
//! `push_event_with_time`, `push_events`, `drain_alerts`, `last_error`,
//! `flush`, `advance_time` and `stats`.
//!
//! Everything those exports do, apart from moving bytes across linear
//! memory, lives in [`Module`], which is also built as an rlib so that a host
//! can run the very same adapter in process (the native backend of
//! `host-harness`): both paths then answer byte for byte alike.

use std::fmt::Write as _;

use rule_core::{
    Engine, Limits, Mapping, PushError, RefusedRule, ResultPosition, Rule, RuleError, RuleMeta,
};
use serde::Deserialize;

// The C ABI is the wasm32-unknown-unknown build's. On another wasm target
// (rule-component's wasm32-wasip2) this crate is a library only, so that
// linking it does not export a second engine's ABI.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod exports;

/// The version of the ABI this module exports. It changes only when an
/// existing export changes its meaning or signature; new exports don't
/// change it.
pub const ABI_VERSION: u32 = 1;

/// `push_events`: some lines were refused (see `last_error`), the others
/// were processed.
pub const BATCH_PARTIAL: i32 = -11;
/// `configure`: the configuration or its rule is bad (see `last_error`);
/// the engine in place is kept.
pub const CONFIG_ERROR: i32 = -12;
/// A `(ptr, len)` argument names bytes outside the module's linear memory.
pub const BAD_POINTER: i32 = -13;
/// `restore`: the snapshot is corrupt, of another format version, or of a
/// rule of another shape (see `last_error`); the engine's state is kept.
pub const SNAPSHOT_ERROR: i32 = -14;

/// At most this many refused lines are listed in `last_error` after
/// `push_events`; the rest are counted.
pub const MAX_LISTED_LINES: usize = 100;
/// An error message longer than this is cut (at a character boundary) and
/// ends with `…`: a refused 10 MB value should not come back whole.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// The state behind the exports: one engine and the buffers the module
/// hands out (`drain_alerts`, `last_error`, `stats`).
pub struct Module {
    engine: Engine,
    alerts: Vec<u8>,
    error: String,
    stats: String,
    snapshot: Vec<u8>,
}

impl Default for Module {
    fn default() -> Self {
        Module::new()
    }
}

/// What `configure` accepts. Every field is optional; `{}` (or nothing at
/// all) means the embedded rule with default limits.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    rule: Option<RuleSpec>,
    /// A pack: many rules in one engine (not with `rule`).
    #[serde(default)]
    rules: Option<Vec<RuleSpec>>,
    #[serde(default)]
    limits: Option<serde_json::Value>,
    #[serde(default)]
    params: Option<ParamsSpec>,
}

/// Elasticsearch's EQL request parameters (`docs/ABI.md`); each one set
/// here overrides the rule's own (a TOML's `event_category_override`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamsSpec {
    #[serde(default)]
    timestamp_field: Option<String>,
    #[serde(default)]
    event_category_field: Option<String>,
    /// An Elasticsearch index mapping (`{"properties": ...}`).
    #[serde(default)]
    mapping: Option<serde_json::Value>,
    #[serde(default)]
    max_samples_per_key: Option<usize>,
    #[serde(default)]
    tiebreaker_field: Option<String>,
    /// At most this many results; unset, all of them.
    #[serde(default)]
    size: Option<u64>,
    /// `"head"` or `"tail"` (the default): which `size` results.
    #[serde(default)]
    result_position: Option<ResultPosition>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    #[serde(default)]
    eql: Option<String>,
    #[serde(default)]
    meta: Option<RuleMeta>,
    #[serde(default)]
    toml: Option<String>,
}

impl Module {
    /// A module with the embedded rule and default limits.
    pub fn new() -> Module {
        Module::with_engine(Engine::with_embedded_rule())
    }

    /// A module around an engine built by the caller.
    pub fn with_engine(engine: Engine) -> Module {
        Module {
            engine,
            alerts: Vec::new(),
            error: String::new(),
            stats: String::new(),
            snapshot: Vec::new(),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// `configure`: 0, or [`CONFIG_ERROR`] with the reason in
    /// [`Module::last_error`]. On success the engine and all its state are
    /// replaced (pending sequences and undrained alerts are dropped); on
    /// failure nothing changes.
    pub fn configure(&mut self, config: &[u8]) -> i32 {
        self.error.clear();
        match build_engine(config) {
            Ok(engine) => {
                self.engine = engine;
                self.alerts = Vec::new();
                0
            }
            Err(message) => {
                self.set_error(format_args!("configure: {message}"));
                CONFIG_ERROR
            }
        }
    }

    /// `push_event`: alerts pending (>= 0), or a [`PushError::code`].
    pub fn push_event(&mut self, event: &[u8]) -> i32 {
        self.error.clear();
        let result = self.engine.push(event);
        self.answer_push(result)
    }

    /// `push_event_with_time`: as [`Module::push_event`], with the host's
    /// time for an event that has no `@timestamp`.
    pub fn push_event_with_time(&mut self, event: &[u8], fallback_ms: i64) -> i32 {
        self.error.clear();
        let result = self.engine.push_with_fallback_time(event, fallback_ms);
        self.answer_push(result)
    }

    fn answer_push(&mut self, result: Result<usize, PushError>) -> i32 {
        match result {
            Ok(pending) => count(pending),
            Err(e) => {
                self.set_error(format_args!("event refused: {e}"));
                e.code()
            }
        }
    }

    /// `push_events`: alerts pending (>= 0) when every line was taken;
    /// [`BATCH_PARTIAL`] when some were refused (listed in `last_error`, one
    /// `line N: <message>` per line); `-10` when the alert buffer was full
    /// and the whole batch was refused.
    pub fn push_events(&mut self, batch: &[u8]) -> i32 {
        self.error.clear();
        match self.engine.push_ndjson(batch) {
            Ok(report) if report.refused.is_empty() => count(report.alerts_pending),
            Ok(report) => {
                let mut listed = 0;
                for (line, e) in report.refused.iter().take(MAX_LISTED_LINES) {
                    if listed > 0 {
                        self.error.push('\n');
                    }
                    let start = self.error.len();
                    let _ = write!(self.error, "line {line}: {e}");
                    clip_message(&mut self.error, start);
                    listed += 1;
                }
                let more = report.refused.len() - listed;
                if more > 0 {
                    let _ = write!(self.error, "\n… and {more} more refused lines");
                }
                BATCH_PARTIAL
            }
            Err(e) => {
                self.set_error(format_args!("batch refused: {e}"));
                e.code()
            }
        }
    }

    /// `drain_alerts`: the pending alerts as NDJSON (one alert and a `\n`
    /// each); the engine's buffer is emptied. The bytes stay until the next
    /// call.
    pub fn drain_alerts(&mut self) -> &[u8] {
        // Keep the buffer's memory between drains, unless one huge drain
        // left far more than the next is likely to need.
        if self.alerts.capacity() > (4 << 20) {
            self.alerts = Vec::new();
        }
        self.alerts.clear();
        self.engine.drain_ndjson(&mut self.alerts);
        &self.alerts
    }

    /// The message of the last call that failed, or `""` when the last call
    /// succeeded. Every export that can fail clears it first.
    pub fn last_error(&self) -> &str {
        &self.error
    }

    /// Records a message for `last_error`, as an export does before it
    /// returns an error code (used for pointer errors, which never reach
    /// the engine).
    pub fn set_error(&mut self, message: core::fmt::Arguments<'_>) {
        self.error.clear();
        let _ = self.error.write_fmt(message);
        clip_message(&mut self.error, 0);
    }

    /// `flush`: end of stream. Alerts pending.
    pub fn flush(&mut self) -> i32 {
        self.error.clear();
        count(self.engine.flush())
    }

    /// `advance_time`: a host clock tick in event-time milliseconds. Alerts
    /// pending.
    pub fn advance_time(&mut self, now_ms: i64) -> i32 {
        self.error.clear();
        count(self.engine.advance_time(now_ms))
    }

    /// `stats`: the engine's counters as one JSON object.
    pub fn stats(&mut self) -> &str {
        self.stats = self.engine.stats().to_json();
        &self.stats
    }

    /// `snapshot`: the engine's whole state as bytes (rule-core's versioned
    /// snapshot format), valid until the next call.
    pub fn snapshot(&mut self) -> &[u8] {
        self.error.clear();
        self.snapshot = self.engine.snapshot();
        &self.snapshot
    }

    /// `restore`: replaces the engine's state with a snapshot's; `0`, or
    /// [`SNAPSHOT_ERROR`] with the reason in `last_error` and nothing changed.
    pub fn restore(&mut self, snapshot: &[u8]) -> i32 {
        self.error.clear();
        match self.engine.restore(snapshot) {
            Ok(()) => 0,
            Err(e) => {
                self.set_error(format_args!("snapshot refused: {e}"));
                SNAPSHOT_ERROR
            }
        }
    }
}

/// A count as the ABI returns it: an `i32` that is never negative.
fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Cuts `s[start..]` to [`MAX_MESSAGE_BYTES`] at a character boundary,
/// ending it with `…` when cut: how every face of the engine bounds the
/// messages it hands out.
pub fn clip_message(s: &mut String, start: usize) {
    let limit = start + MAX_MESSAGE_BYTES;
    if s.len() > limit {
        let mut cut = limit;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
}

/// The rules a configuration names: one, or a pack.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleSet {
    One(Box<Rule>),
    /// Each entry a rule, or why it could not be read as one.
    Pack(Vec<Result<Rule, RefusedRule>>),
}

impl RuleSet {
    /// Compiles the rules. A pack compiles whatever of it can (the refused
    /// rules are listed in the engine's stats) and fails only when none
    /// of its rules compiles, with the first one's reason.
    pub fn compile(self, limits: Limits) -> Result<Engine, RuleError> {
        match self {
            RuleSet::One(rule) => Engine::new(*rule, limits),
            RuleSet::Pack(entries) => {
                let count = entries.len();
                let (engine, refused) = Engine::with_pack(entries, limits);
                match refused.into_iter().next() {
                    Some(first) if engine.rules().next().is_none() => Err(RuleError {
                        message: format!(
                            "no rule of the pack compiles ({count} refused); the first, `{}`: {}",
                            first.name, first.error.message
                        ),
                        position: first.error.position,
                    }),
                    _ => Ok(engine),
                }
            }
        }
    }
}

/// Reads a `configure` document and compiles its rules. The error names
/// what was wrong and where (JSON line and column, or the rule's).
pub fn build_engine(config: &[u8]) -> Result<Engine, String> {
    let (rules, limits) = parse_config(config)?;
    rules.compile(limits).map_err(|e| format!("{e}"))
}

/// Reads a `configure` document into its rules and limits, without
/// compiling the rules.
pub fn parse_config(config: &[u8]) -> Result<(RuleSet, Limits), String> {
    let blank = config.iter().all(u8::is_ascii_whitespace);
    let parsed: Config = if blank {
        Config::default()
    } else {
        // serde would take a struct from an array too; the ABI says object.
        let first = config.iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'{') {
            return Err("the configuration must be a JSON object".into());
        }
        serde_json::from_slice(config).map_err(|e| format!("invalid JSON: {e}"))?
    };
    let limits = match parsed.limits {
        None => Limits::default(),
        Some(value) => parse_limits(value)?,
    };
    let params = match parsed.params {
        None => None,
        Some(params) => Some(Params::read(params)?),
    };
    let rules = match (parsed.rule, parsed.rules) {
        (Some(_), Some(_)) => return Err("`rule` or `rules`, not both".into()),
        (None, None) => RuleSet::One(Box::new(Rule::embedded())),
        (Some(spec), None) => RuleSet::One(Box::new(spec.into_rule()?)),
        (None, Some(specs)) => RuleSet::Pack(
            specs
                .into_iter()
                .enumerate()
                .map(|(i, mut spec)| {
                    // A bare query in a pack is told apart by its place.
                    if spec.eql.is_some() && spec.meta.is_none() {
                        spec.meta = Some(RuleMeta::named(
                            format!("rules[{i}]"),
                            format!("rules[{i}]"),
                        ));
                    }
                    spec.into_rule().map_err(|e| RefusedRule {
                        index: i,
                        id: String::new(),
                        name: format!("rules[{i}]"),
                        error: RuleError {
                            position: None,
                            message: e,
                        },
                    })
                })
                .collect(),
        ),
    };
    let mut rules = rules;
    if let Some(params) = &params {
        match &mut rules {
            RuleSet::One(rule) => params.apply(rule),
            RuleSet::Pack(entries) => entries.iter_mut().flatten().for_each(|r| params.apply(r)),
        }
    }
    Ok((rules, limits))
}

impl RuleSpec {
    fn into_rule(self) -> Result<Rule, String> {
        match self {
            RuleSpec {
                eql: Some(eql),
                meta,
                toml: None,
            } => Ok(Rule::from_eql(eql, meta)),
            RuleSpec {
                eql: None,
                meta: None,
                toml: Some(toml),
            } => Rule::from_toml(&toml).map_err(|e| format!("{e}")),
            RuleSpec {
                eql: None,
                meta: Some(_),
                toml: Some(_),
            } => Err("`rule.meta` goes with `rule.eql`; a TOML rule carries its own".into()),
            RuleSpec {
                eql: Some(_),
                toml: Some(_),
                ..
            } => Err("`rule` takes `eql` or `toml`, not both".into()),
            RuleSpec {
                eql: None,
                toml: None,
                ..
            } => Err("`rule` needs `eql` (with optional `meta`) or `toml`".into()),
        }
    }
}

/// `params`, read: each one set overrides every rule's own.
struct Params {
    spec: ParamsSpec,
    mapping: Option<Mapping>,
}

impl Params {
    fn read(mut spec: ParamsSpec) -> Result<Params, String> {
        let mapping = match spec.mapping.take() {
            None => None,
            Some(mapping) => Some(
                Mapping::from_json(&mapping.to_string())
                    .map_err(|e| format!("`params.mapping`: {}", e.message))?,
            ),
        };
        Ok(Params { spec, mapping })
    }

    fn apply(&self, rule: &mut Rule) {
        let spec = &self.spec;
        if let Some(field) = &spec.timestamp_field {
            rule.params.timestamp_field = Some(field.clone());
        }
        if let Some(field) = &spec.event_category_field {
            rule.params.event_category_field = Some(field.clone());
        }
        if let Some(field) = &spec.tiebreaker_field {
            rule.params.tiebreaker_field = Some(field.clone());
        }
        if let Some(n) = spec.max_samples_per_key {
            rule.params.max_samples_per_key = Some(n);
        }
        if let Some(n) = spec.size {
            rule.params.size = Some(n);
        }
        if let Some(position) = spec.result_position {
            rule.params.result_position = position;
        }
        if let Some(mapping) = &self.mapping {
            rule.params.mapping = Some(mapping.clone());
        }
    }
}

/// `Limits` takes every field as optional; a misspelt one would silently be
/// its default, so unknown names are refused here.
fn parse_limits(value: serde_json::Value) -> Result<Limits, String> {
    let serde_json::Value::Object(map) = &value else {
        return Err("`limits` must be an object".into());
    };
    let known = match serde_json::to_value(Limits::default()) {
        Ok(serde_json::Value::Object(known)) => known,
        _ => serde_json::Map::new(),
    };
    if let Some(unknown) = map.keys().find(|k| !known.contains_key(k.as_str())) {
        let names: Vec<&str> = known.keys().map(String::as_str).collect();
        return Err(format!(
            "unknown limit `{unknown}`; the limits are {}",
            names.join(", ")
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("`limits`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_blank_is_default() {
        let (rule, limits) = parse_config(b"").unwrap();
        assert_eq!(rule, RuleSet::One(Box::new(Rule::embedded())));
        assert_eq!(limits, Limits::default());
        let (rule, limits) = parse_config(b" {} \n").unwrap();
        assert_eq!(rule, RuleSet::One(Box::new(Rule::embedded())));
        assert_eq!(limits, Limits::default());
    }

    #[test]
    fn config_limits_partial_and_unknown() {
        let (_, limits) = parse_config(br#"{"limits": {"max_buffered_alerts": 3}}"#).unwrap();
        assert_eq!(limits.max_buffered_alerts, 3);
        assert_eq!(limits.max_event_bytes, Limits::default().max_event_bytes);
        let e = parse_config(br#"{"limits": {"max_alerts": 3}}"#).unwrap_err();
        assert!(e.contains("unknown limit `max_alerts`"), "{e}");
        assert!(e.contains("max_buffered_alerts"), "{e}");
        let e = parse_config(br#"{"limits": {"max_buffered_alerts": "x"}}"#).unwrap_err();
        assert!(e.starts_with("`limits`: "), "{e}");
        let e = parse_config(br#"{"limits": 3}"#).unwrap_err();
        assert!(e.contains("must be an object"), "{e}");
    }

    #[test]
    fn config_rule_forms() {
        let one = |doc: &[u8]| match parse_config(doc) {
            Ok((RuleSet::One(rule), _)) => *rule,
            other => panic!("{other:?}"),
        };
        let rule = one(br#"{"rule": {"eql": "any where true"}}"#);
        assert_eq!(rule.query, "any where true");
        assert_eq!(rule.meta, Rule::embedded().meta);
        let meta = r#"{"id": "x-1", "name": "mine", "severity": "high"}"#;
        let doc = format!(r#"{{"rule": {{"eql": "q", "meta": {meta}}}}}"#);
        let rule = one(doc.as_bytes());
        assert_eq!(rule.meta.id, "x-1");
        assert_eq!(rule.meta.severity, "high");
        let toml = serde_json::to_string(rule_core::EMBEDDED_RULE_TOML).unwrap();
        let doc = format!(r#"{{"rule": {{"toml": {toml}}}}}"#);
        assert_eq!(one(doc.as_bytes()), Rule::embedded());
    }

    #[test]
    fn config_pack() {
        let toml = serde_json::to_string(rule_core::EMBEDDED_RULE_TOML).unwrap();
        let doc = format!(
            r#"{{"rules": [{{"toml": {toml}}}, {{"eql": "process where"}}, {{"toml": "x = 1"}}, {{"eql": "network where true"}}],
                 "params": {{"event_category_field": "kind"}}}}"#
        );
        let (rules, _) = parse_config(doc.as_bytes()).unwrap();
        let RuleSet::Pack(entries) = &rules else {
            panic!("{rules:?}")
        };
        assert_eq!(entries.len(), 4);
        assert!(entries[2].as_ref().is_err_and(|e| e.name == "rules[2]"));
        for rule in entries.iter().flatten() {
            assert_eq!(rule.params.event_category_field.as_deref(), Some("kind"));
        }
        let engine = rules.compile(Limits::default()).unwrap();
        assert_eq!(engine.rules().count(), 2);
        let refused: Vec<usize> = engine.refused_rules().iter().map(|r| r.index).collect();
        assert_eq!(refused, [1, 2]);
        let Err(e) = build_engine(br#"{"rules": [{"eql": "process where"}]}"#) else {
            panic!("a pack of one refused rule built")
        };
        assert!(e.contains("no rule of the pack compiles"), "{e}");
        let e = parse_config(br#"{"rule": {"eql": "a"}, "rules": []}"#).unwrap_err();
        assert!(e.contains("not both"), "{e}");
    }

    #[test]
    fn config_errors_say_where() {
        let e = parse_config(b"{\"rule\": ").unwrap_err();
        assert!(
            e.starts_with("invalid JSON: ") && e.contains("line 1"),
            "{e}"
        );
        let e = parse_config(b"[]").unwrap_err();
        assert!(e.contains("must be a JSON object"), "{e}");
        let e = parse_config(br#"{"rulez": {}}"#).unwrap_err();
        assert!(e.contains("unknown field `rulez`"), "{e}");
        let e = parse_config(br#"{"rule": {}}"#).unwrap_err();
        assert!(e.contains("needs `eql`"), "{e}");
        let e = parse_config(br#"{"rule": {"eql": "a", "toml": "b"}}"#).unwrap_err();
        assert!(e.contains("not both"), "{e}");
        let e =
            parse_config(br#"{"rule": {"toml": "b", "meta": {"id":"a","name":"b"}}}"#).unwrap_err();
        assert!(e.contains("`rule.meta` goes with `rule.eql`"), "{e}");
        let e = parse_config(br#"{"rule": {"toml": "[rule]\nname = 1"}}"#).unwrap_err();
        assert!(e.contains("rule TOML"), "{e}");
    }

    #[test]
    fn clip_cuts_at_char_boundary() {
        let mut s = String::from("ab");
        s.push_str(&"é".repeat(MAX_MESSAGE_BYTES));
        clip_message(&mut s, 2);
        assert!(s.ends_with('…'));
        assert!(s.len() <= 2 + MAX_MESSAGE_BYTES + '…'.len_utf8());
        let mut short = String::from("short");
        clip_message(&mut short, 0);
        assert_eq!(short, "short");
    }

    #[test]
    fn count_saturates() {
        assert_eq!(count(0), 0);
        assert_eq!(count(7), 7);
        assert_eq!(count(usize::MAX), i32::MAX);
    }
}
