//! rule-core for JavaScript: the rule "Network Connection Followed by File
//! Creation" (or any rule of the same EQL subset) as a class that runs in a
//! browser or in Node, built with wasm-bindgen.
//!
//! `scripts/build-js.sh` compiles this crate for `wasm32-unknown-unknown`
//! and runs `wasm-bindgen` (the CLI at exactly this crate's wasm-bindgen
//! version) for the `web` and `nodejs` targets into `rule-js/pkg/web` and
//! `rule-js/pkg/node`; `rule-js/package.json` maps them to the `browser` and
//! `node` conditions, so `rule-js/` is the npm package as it stands. The
//! TypeScript declarations come out of the same build, from these doc
//! comments and the shapes declared below.
//!
//! ```js
//! import { RuleEngine } from "@rule-wasm/netcon-file-creation";
//!
//! const engine = new RuleEngine();            // the embedded rule, default limits
//! engine.pushEvent({ "@timestamp": "2026-11-22T07:33:01Z", event: { category: ["network"], ... } });
//! const report = engine.pushEvents(ndjsonText); // { taken, refused: [...], alertsPending }
//! engine.flush();                               // end of input: match what the reorder window holds
//! for (const alert of engine.drainAlerts()) console.log(alert.rule.name, alert.Events);
//!
//! try {
//!   new RuleEngine("sequence by host.id [network where ]");
//! } catch (e) {
//!   console.log(e.code, e.line, e.column, e.message); // -12 1 36 "rule error at line 1, column 36: expected a value, ..."
//! }
//! ```
//!
//! In the browser, the `web` build first needs `await init()` (its default
//! export) before `new RuleEngine()`.
//!
//! # Errors
//!
//! Every failure is thrown as a JavaScript `Error` with a numeric `code`, the
//! same numbers as the core module's ABI (`docs/ABI.md`), and a `kind`:
//!
//! - `-1` to `-10`: an event refused, `rule_core::PushError::code` (`kind` is
//!   its `ErrorKind` name, e.g. `invalid_json`; `name` is `EventError`);
//! - `-12`: the rule or the options (`name` is `RuleError`); a rule error in
//!   the EQL also carries `line` and `column` (1-based, columns in
//!   characters) in the text given to the constructor, which for a TOML rule
//!   file is the file, and `queryLine`/`queryColumn` within the query itself;
//!   `RuleEngine.example` throws it with `kind` `example` when no example
//!   can be built for a rule that compiles;
//! - `-14`: a snapshot refused by `restore` (`name` is `SnapshotError`).
//!
//! # Invariants
//!
//! - Nothing from outside panics: events, rule text, options and snapshots
//!   are checked and refused with an `Error`, never a trap.
//! - A refused event, a refused batch (back-pressure) or a refused snapshot
//!   leaves the engine as it was; refused events are counted in `stats()`.
//! - Alerts are drained, never dropped: with `maxBufferedAlerts` undrained,
//!   pushing throws code `-10` without taking the event.
//! - Values cross to JavaScript as plain objects and arrays (no `Map`s, no
//!   wasm handles), so they can be logged, cloned and turned to JSON as they
//!   are.

use js_sys::{Error as JsErrorObject, JsString, Reflect, Uint8Array};
use rule_core::{
    Engine, Limits, Mapping, PushError, ResultPosition, Rule, RuleError, EMBEDDED_RULE_TOML,
};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Error code for a rule or options that cannot be used (as the ABI's `configure`).
pub const RULE_ERROR: i32 = -12;
/// Error code for a snapshot `restore` refuses (next free code after the ABI's `-13`).
pub const SNAPSHOT_ERROR: i32 = -14;
/// A longer error message is cut (at a character boundary) and ends with `…`.
pub const MAX_MESSAGE_BYTES: usize = 1024;

#[wasm_bindgen(typescript_custom_section)]
const TS_SHAPES: &'static str = r#"
/** Options: every field of rule-core's `Limits`, all optional. */
export interface RuleEngineOptions {
  /** A larger event is refused (code -2). Default 1 MiB. */
  maxEventBytes?: number;
  /** At this many pending sequences of one rule, its oldest is evicted. Default 1 000 000. */
  maxPendingSequences?: number;
  /** At this many bytes of one rule's pending state, its oldest sequence is evicted. Default 512 MiB. */
  maxStateBytes?: number;
  /** At this many bytes of pending state over a pack's rules, the rule holding the most loses its oldest. Default 512 MiB. */
  maxTotalStateBytes?: number;
  /** With this many alerts undrained, pushing throws code -10. Default 10 000. */
  maxBufferedAlerts?: number;
  /** How late (event time, ms) an event may come and still be put in order. Default 0. */
  reorderWindowMs?: number;
  /** Seeds the hashing of join keys: pass a random one (e.g. from crypto.getRandomValues) where events are untrusted. Default 0. */
  hashSeed?: number;
}

/** Elasticsearch's EQL request parameters, all optional; each overrides the rule's own. */
export interface RuleEngineParams {
  /** The event time field. Default `@timestamp`. */
  timestampField?: string;
  /** The field `process where` tests. Default `event.category`. */
  eventCategoryField?: string;
  /** An Elasticsearch index mapping (`{"properties": ...}`): field types and aliases. */
  mapping?: object;
  /** Samples per join key a `sample` query gives. Default 1. */
  maxSamplesPerKey?: number;
  /** Orders events of the same time (a number or a date field); missing ones last. */
  tiebreakerField?: string;
  /** At most this many results. Default: all (Elasticsearch's 10 would silence a stream). */
  size?: number;
  /** With `size`: `"head"`, the first results as they form, or `"tail"` (default), the last ones, let out at `flush()`. */
  resultPosition?: 'head' | 'tail';
}

/** What `new RuleEngine`, `pushEvent`, `restore`... throw. */
export interface RuleEngineError extends Error {
  /** `EventError` (-1..-10), `RuleError` (-12) or `SnapshotError` (-14). */
  name: "EventError" | "RuleError" | "SnapshotError";
  /** The ABI code: rule-core's PushError::code, -12 for the rule or options, -14 for a snapshot. */
  code: number;
  /** `invalid_json`, `missing_timestamp`, ... for events; `rule`, `options`, `params`, `example` or `snapshot` otherwise. */
  kind: string;
  /** Rule errors in the EQL: 1-based line in the text given to the constructor. */
  line?: number;
  /** Rule errors in the EQL: 1-based column, in characters. */
  column?: number;
  /** Rule errors in the EQL: line within the query (differs from `line` for a TOML file). */
  queryLine?: number;
  /** Rule errors in the EQL: column within the query. */
  queryColumn?: number;
  /** The reason alone, without the position. */
  reason: string;
  /** `example` errors: the 1-based stage the reason concerns, when one. */
  stage?: number;
}

/** One refused line of `pushEvents`. */
export interface RefusedLine {
  /** 1-based line number in the batch. */
  line: number;
  code: number;
  kind: string;
  message: string;
}

/** What `pushEvents` did with a batch. */
export interface BatchReport {
  /** Lines taken (blank lines are skipped, neither taken nor refused). */
  taken: number;
  refused: RefusedLine[];
  /** Alerts waiting to be drained after the batch. */
  alertsPending: number;
}

/** An alert: an ECS document as Elastic Defend's behaviour alerts have them. */
export interface Alert {
  /** The time of the sequence's last event, RFC 3339 with milliseconds. */
  "@timestamp": string;
  event: { kind: "alert"; category: string[]; type: string[]; severity: number; risk_score: number };
  message: string;
  rule: { id: string; uuid: string; name: string; description: string; version: string; license: string; author: string[] };
  threat: unknown[];
  kibana: { alert: { severity: string; risk_score: number } };
  /** The matched events, in sequence order, as they were pushed. */
  Events: Record<string, unknown>[];
  /** The join key values, nested by their dotted names (`host.id` is `host: { id }`). */
  [joinKey: string]: unknown;
}

/** Counters since the engine was created (or restored). */
export interface Stats {
  events: number;
  bytes: number;
  /** Per stage, events that passed its filter. */
  stageMatches: number[];
  alerts: number;
  /** Refused events by kind (`empty`, `too_large`, `invalid_utf8`, `invalid_json`, `not_an_object`, `wrong_type`, `malformed_ip`, `missing_timestamp`, `bad_timestamp`, `back_pressure`). */
  errors: Record<string, number>;
  /** Values left out of events taken because their field's mapping says `ignore_malformed`, by the same kinds. */
  ignoredMalformed: Record<string, number>;
  pendingSequences: number;
  stateBytes: number;
  evictions: number;
  expired: number;
  lateEvents: number;
  reorderHeld: number;
  truncatedKeys: number;
  /** Computed conditions that failed on an event's values (false for it). */
  scriptErrors: number;
  /** Computed conditions cut at 4096 combinations of values. */
  scriptTruncated: number;
  /** Pending sequences an `until` ended. */
  endedByUntil: number;
  /** Sequences an event of a missing-event stage discarded. */
  discardedByMissing: number;
  /** Results `| head` or `| tail` dropped. */
  pipedOut: number;
  /** A pack's rules, each with its own counters (absent for one rule). */
  rules?: RuleStats[];
  /** A pack's rules that did not compile (absent when none). */
  refusedRules?: { id: string; name: string; error: string }[];
}

/** One rule's counters in a pack; the fields mean what `Stats`' do. */
export interface RuleStats {
  id: string;
  name: string;
  stageMatches: number[];
  alerts: number;
  pendingSequences: number;
  stateBytes: number;
  evictions: number;
  expired: number;
  lateEvents: number;
  reorderHeld: number;
  truncatedKeys: number;
  scriptErrors: number;
  scriptTruncated: number;
  endedByUntil: number;
  discardedByMissing: number;
  pipedOut: number;
}

/** A leaf predicate's outcome: `missing` when its field has no value (it is then false). */
export type Outcome = "true" | "false" | "missing";

/** One node of a stage's filter, with its result on the event. */
export type FilterNode =
  | { node: "and"; result: boolean; children: FilterNode[] }
  | { node: "or"; result: boolean; children: FilterNode[] }
  | { node: "not"; result: boolean; child: FilterNode }
  | { node: "const"; result: boolean }
  | { node: "leaf"; result: boolean; outcome: Outcome; test: string; field: string; values: (string | number | null)[] }
  /** A condition Elasticsearch runs as a script (functions, arithmetic): true when some combination of its fields' values is. */
  | { node: "script"; result: boolean; test: string; fields: { field: string; values: (string | number | null)[] }[] };

/** A join key field and its values in the event. */
export interface FieldValues {
  field: string;
  values: (string | number | null)[];
}

/** How one stage judges the event. */
export interface StageExplanation {
  /** 0-based stage index. */
  stage: number;
  /** The filter holds. */
  passes: boolean;
  /** The filter holds and every join key has a value: the event takes part in sequences here. */
  joins: boolean;
  joinKeys: FieldValues[];
  filter: FilterNode;
}

/** `explain`: the verdict of every stage on one event. */
export interface Explanation {
  /** `@timestamp` in epoch milliseconds, or null. */
  timestamp: number | null;
  /** `@timestamp` as RFC 3339 (milliseconds), or null. */
  time: string | null;
  stages: StageExplanation[];
}

/** `RuleEngine.example`: events that make the rule fire, and near misses that must not. */
export interface RuleExample {
  /** JSON documents, in push order: a new engine of the rule raises an alert on them (after `flush()`). */
  positives: string[];
  /** Streams close to `positives`, each raising no alert in a new engine; `what` says what was changed. */
  nearMisses: { what: string; events: string[] }[];
}

/** The rule's metadata, as in detection-rules TOML. */
export interface RuleMeta {
  id: string;
  name: string;
  description: string;
  version: number;
  license: string;
  author: string[];
  severity: string;
  risk_score: number;
  threat: unknown[];
}
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "string | Uint8Array | Record<string, unknown>")]
    pub type EventArg;
    #[wasm_bindgen(typescript_type = "string | Uint8Array")]
    pub type BatchArg;
    #[wasm_bindgen(typescript_type = "BatchReport")]
    pub type BatchReportValue;
    #[wasm_bindgen(typescript_type = "Alert[]")]
    pub type AlertArray;
    #[wasm_bindgen(typescript_type = "Stats")]
    pub type StatsValue;
    #[wasm_bindgen(typescript_type = "Explanation")]
    pub type ExplanationValue;
    #[wasm_bindgen(typescript_type = "RuleMeta")]
    pub type RuleMetaValue;
    #[wasm_bindgen(typescript_type = "Required<RuleEngineOptions>")]
    pub type LimitsValue;
    #[wasm_bindgen(typescript_type = "RuleExample")]
    pub type RuleExampleValue;
}

/// The rule engine: one compiled rule and its sequence state.
///
/// Events go in one at a time (`pushEvent`) or as NDJSON (`pushEvents`);
/// alerts come out with `drainAlerts`. Call `free()` when done with it in a
/// long-lived page (or rely on the FinalizationRegistry wasm-bindgen sets up).
#[wasm_bindgen]
pub struct RuleEngine {
    engine: Engine,
}

#[wasm_bindgen]
impl RuleEngine {
    /// Compiles a rule. `ruleText` is EQL, or a detection-rules TOML file
    /// (recognised by a first line that opens a `[section]`, or a `[rule]`
    /// section anywhere); omitted, the embedded rule. EQL alone gets the
    /// embedded rule's metadata (id, name, severity) for its alerts.
    /// `options` are rule-core's limits, in camelCase; `params` are
    /// Elasticsearch's EQL request parameters (`RuleEngineParams`).
    ///
    /// @throws {RuleEngineError} code -12: the rule does not compile (with
    /// `line` and `column`), the TOML is wrong, or an option is unknown or
    /// not a non-negative integer.
    #[wasm_bindgen(constructor)]
    pub fn new(
        // Taken as a JsValue and checked here: the glue of an `Option<String>`
        // does not check that a value is a string.
        #[wasm_bindgen(js_name = "ruleText", unchecked_optional_param_type = "string | null")]
        rule_text: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RuleEngineOptions | null")]
        options: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RuleEngineParams | null")] params: JsValue,
    ) -> Result<RuleEngine, JsValue> {
        let limits = limits_from(options)?;
        let params = params_from(params)?;
        let engine = if rule_text.is_undefined() || rule_text.is_null() {
            let mut rule = Rule::embedded();
            params.apply(&mut rule);
            Engine::new(rule, limits)
        } else if let Some(text) = rule_text.as_string() {
            build(&text, limits, &params)?
        } else {
            return Err(js_error(
                "ruleText must be a string (EQL or TOML), null or undefined",
                RULE_ERROR,
                "rule",
                "RuleError",
            ));
        }
        .map_err(|e| rule_error(&e, None))?;
        Ok(RuleEngine { engine })
    }

    /// A pack: many rules in one engine, each text EQL or detection-rules
    /// TOML (as for the constructor; a bare EQL query is named and
    /// identified `ruleTexts[i]`, its place). Rules that do not compile are
    /// skipped and listed in `stats().refusedRules`; alerts name their
    /// rule (`rule.id`, `rule.name`).
    ///
    /// @throws {RuleEngineError} code -12 when no rule of the pack
    /// compiles (the first one's reason), or an option is wrong.
    pub fn pack(
        #[wasm_bindgen(js_name = "ruleTexts", unchecked_param_type = "string[]")]
        rule_texts: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RuleEngineOptions | null")]
        options: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RuleEngineParams | null")] params: JsValue,
    ) -> Result<RuleEngine, JsValue> {
        let limits = limits_from(options)?;
        let params = params_from(params)?;
        let not_texts = || {
            js_error(
                "ruleTexts must be an array of strings (EQL or TOML)",
                RULE_ERROR,
                "rule",
                "RuleError",
            )
        };
        if !js_sys::Array::is_array(&rule_texts) {
            return Err(not_texts());
        }
        let mut entries = Vec::new();
        for (i, text) in js_sys::Array::from(&rule_texts).iter().enumerate() {
            let text = text.as_string().ok_or_else(not_texts)?;
            let entry = if looks_like_toml(&text) {
                Rule::from_toml(&text).map_err(|error| rule_core::RefusedRule {
                    index: i,
                    id: String::new(),
                    name: format!("ruleTexts[{i}]"),
                    error,
                })
            } else {
                // A bare query in a pack is told apart by its place.
                let name = format!("ruleTexts[{i}]");
                Ok(Rule::from_eql(
                    text,
                    Some(rule_core::RuleMeta::named(name.clone(), name)),
                ))
            };
            entries.push(entry.map(|mut rule| {
                params.apply(&mut rule);
                rule
            }));
        }
        let count = entries.len();
        let (engine, refused) = Engine::with_pack(entries, limits);
        if engine.rules().next().is_none() {
            let reason = refused.first().map_or_else(
                || "the pack is empty".to_string(),
                |r| format!("`{}`: {}", r.name, r.error),
            );
            return Err(js_error(
                &clip(format!(
                    "no rule of the pack compiles ({count} given); {reason}"
                )),
                RULE_ERROR,
                "rule",
                "RuleError",
            ));
        }
        Ok(RuleEngine { engine })
    }

    /// Events that make a rule fire, and near misses that must not:
    /// rule-core's `example`, built from the rule's compiled plan and
    /// checked by a fresh engine. `ruleText` is read as by the constructor
    /// (EQL or TOML; omitted, the embedded rule) and `params` likewise.
    /// `positives` are JSON documents in push order: pushed into a new
    /// engine of the same rule (then `flush()`), they raise an alert. Each
    /// near miss's `events`, pushed alone into a new engine, raise none;
    /// `what` says what was changed.
    ///
    /// @throws {RuleEngineError} code -12: the rule does not compile (as
    /// the constructor: `kind` `rule`, with `line` and `column`), a param
    /// is wrong (`params`), or no example can be built for it (`kind`
    /// `example`, the reason in `message`, the stage in `stage` when one).
    pub fn example(
        #[wasm_bindgen(js_name = "ruleText", unchecked_optional_param_type = "string | null")]
        rule_text: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RuleEngineParams | null")] params: JsValue,
    ) -> Result<RuleExampleValue, JsValue> {
        let params = params_from(params)?;
        let rule = if rule_text.is_undefined() || rule_text.is_null() {
            let mut rule = Rule::embedded();
            params.apply(&mut rule);
            rule
        } else if let Some(text) = rule_text.as_string() {
            // Compiled first, so that a rule error is the constructor's.
            let engine =
                build(&text, Limits::default(), &params)?.map_err(|e| rule_error(&e, None))?;
            match engine.rule() {
                Some(rule) => rule.clone(),
                None => return Err(example_error(None, "the engine holds no single rule")),
            }
        } else {
            return Err(js_error(
                "ruleText must be a string (EQL or TOML), null or undefined",
                RULE_ERROR,
                "rule",
                "RuleError",
            ));
        };
        let example = rule_core::example(&rule).map_err(|e| example_error(e.stage, &e.message))?;
        let value = JsExample {
            positives: example.positives,
            near_misses: example
                .near_misses
                .into_iter()
                .map(|n| JsNearMiss {
                    what: n.what,
                    events: n.events,
                })
                .collect(),
        };
        to_js(&value).map(JsCast::unchecked_into)
    }

    /// The metadata of every rule the engine runs (one, or a pack's).
    #[wasm_bindgen(getter)]
    pub fn rules(&self) -> Result<Vec<RuleMetaValue>, JsValue> {
        self.engine
            .rules()
            .map(|r| to_js(&r.meta).map(JsCast::unchecked_into))
            .collect()
    }

    /// As `explain`, for the pack's rule at `index` (its place in `rules`).
    #[wasm_bindgen(js_name = explainRule)]
    pub fn explain_rule(&self, index: usize, event: EventArg) -> Result<ExplanationValue, JsValue> {
        let bytes = event_bytes(&event.into())?;
        let explanation = self
            .engine
            .explain_rule(index, &bytes)
            .map_err(|e| push_error(&e))?;
        to_js(&JsExplanation::from(explanation)).map(JsCast::unchecked_into)
    }

    /// The embedded rule's EQL query (Elastic's `rule.toml`, unchanged).
    #[wasm_bindgen(js_name = embeddedQuery)]
    pub fn embedded_query() -> String {
        Rule::embedded().query
    }

    /// The embedded rule file, Elastic's detection-rules TOML.
    #[wasm_bindgen(js_name = embeddedToml)]
    pub fn embedded_toml() -> String {
        EMBEDDED_RULE_TOML.into()
    }

    /// The EQL query this engine runs.
    #[wasm_bindgen(getter)]
    pub fn query(&self) -> String {
        self.engine
            .rule()
            .map_or_else(String::new, |r| r.query.clone())
    }

    /// The metadata alerts of this engine carry.
    #[wasm_bindgen(getter, js_name = ruleMeta)]
    pub fn rule_meta(&self) -> Result<RuleMetaValue, JsValue> {
        to_js(&self.engine.rule().map(|r| &r.meta)).map(JsCast::unchecked_into)
    }

    /// The limits in force, every field filled in.
    #[wasm_bindgen(getter)]
    pub fn limits(&self) -> Result<LimitsValue, JsValue> {
        to_js(&Options::from(self.engine.limits())).map(JsCast::unchecked_into)
    }

    /// Alerts waiting to be drained.
    #[wasm_bindgen(getter, js_name = pendingAlerts)]
    pub fn pending_alerts(&self) -> usize {
        self.engine.pending_alerts()
    }

    /// Takes one event: a JSON string, its UTF-8 bytes, or an object (turned
    /// to JSON with `JSON.stringify`, so a `Date` becomes RFC 3339). Returns
    /// the number of alerts waiting to be drained.
    ///
    /// @throws {RuleEngineError} codes -1 to -10 (rule-core's `PushError`);
    /// the engine's state is as it was. -10 (`back_pressure`): drain, then
    /// push the same event again.
    #[wasm_bindgen(js_name = pushEvent)]
    pub fn push_event(&mut self, event: EventArg) -> Result<usize, JsValue> {
        let bytes = event_bytes(&event.into())?;
        self.engine.push(&bytes).map_err(|e| push_error(&e))
    }

    /// Takes a batch of newline-delimited JSON events (a string or bytes). A
    /// bad line is refused and listed in the report; the others are taken.
    ///
    /// @throws {RuleEngineError} code -10 when the alert buffer is already
    /// full: nothing of the batch was taken.
    #[wasm_bindgen(js_name = pushEvents)]
    pub fn push_events(&mut self, ndjson: BatchArg) -> Result<BatchReportValue, JsValue> {
        let value: JsValue = ndjson.into();
        let report = if let Some(text) = value.as_string() {
            self.engine.push_ndjson(text.as_bytes())
        } else if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
            self.engine.push_ndjson(&bytes.to_vec())
        } else {
            return Err(js_error(
                "pushEvents takes NDJSON as a string or a Uint8Array",
                PushError::NotAnObject.code(),
                "not_an_object",
                "EventError",
            ));
        }
        .map_err(|e| push_error(&e))?;
        let report = Report {
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
        };
        to_js(&report).map(JsCast::unchecked_into)
    }

    /// The alerts completed so far, oldest first, as plain objects; the
    /// buffer is emptied.
    #[wasm_bindgen(js_name = drainAlerts)]
    pub fn drain_alerts(&mut self) -> Result<AlertArray, JsValue> {
        let out = js_sys::Array::new();
        for alert in self.engine.drain() {
            // Our own JSON: parsing cannot fail, but if it ever did the
            // alert is still handed over, as its text.
            let value = js_sys::JSON::parse(alert.as_str())
                .unwrap_or_else(|_| JsValue::from_str(alert.as_str()));
            out.push(&value);
        }
        Ok(out.unchecked_into())
    }

    /// As `drainAlerts`, as NDJSON text (one alert per line), the events in
    /// each byte for byte as pushed.
    #[wasm_bindgen(js_name = drainAlertsNdjson)]
    pub fn drain_alerts_ndjson(&mut self) -> String {
        let mut out = Vec::new();
        self.engine.drain_ndjson(&mut out);
        String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into())
    }

    /// End of input: everything the reorder window holds is matched now.
    /// Pending sequences stay. Returns the alerts waiting to be drained.
    pub fn flush(&mut self) -> usize {
        self.engine.flush()
    }

    /// A clock tick in event time (epoch milliseconds): the reorder window
    /// releases and sequences past their maxspan expire as if an event of
    /// that time had come. Returns the alerts waiting to be drained.
    ///
    /// @throws {RuleEngineError} code -9 when `ms` is not a finite number.
    #[wasm_bindgen(js_name = advanceTime)]
    pub fn advance_time(&mut self, ms: f64) -> Result<usize, JsValue> {
        if !ms.is_finite() {
            return Err(js_error(
                "advanceTime takes a finite number of epoch milliseconds",
                -9,
                "bad_timestamp",
                "EventError",
            ));
        }
        // `as` saturates at the i64 bounds and drops the fraction.
        Ok(self.engine.advance_time(ms as i64))
    }

    /// Counters: events, bytes, per-stage matches, alerts, refused events
    /// by kind, and the state held now.
    pub fn stats(&self) -> Result<StatsValue, JsValue> {
        to_js(&JsStats::from(self.engine.stats())).map(JsCast::unchecked_into)
    }

    /// How each stage judges `event` (string, bytes or object, as for
    /// `pushEvent`): whether it passes, its join keys' values, and its
    /// filter as a tree whose leaves say `true`, `false` or `missing` with
    /// the field's values. The engine's state is not touched.
    ///
    /// @throws {RuleEngineError} codes -1 to -9 when the event cannot be
    /// read (it is not counted: nothing was pushed).
    pub fn explain(&self, event: EventArg) -> Result<ExplanationValue, JsValue> {
        let bytes = event_bytes(&event.into())?;
        let explanation = self.engine.explain(&bytes).map_err(|e| push_error(&e))?;
        to_js(&JsExplanation::from(explanation)).map(JsCast::unchecked_into)
    }

    /// The whole state (pending sequences, events held for reordering,
    /// undrained alerts, counters) as versioned, checksummed bytes.
    pub fn snapshot(&self) -> Vec<u8> {
        self.engine.snapshot()
    }

    /// Replaces the state with a snapshot's (taken from an engine of a rule
    /// of the same shape: stages and join keys).
    ///
    /// @throws {RuleEngineError} code -14 when the bytes are not a snapshot,
    /// are corrupt, of another format version or of another rule shape; the
    /// engine is then as it was.
    pub fn restore(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue,
    ) -> Result<(), JsValue> {
        let Some(bytes) = bytes.dyn_ref::<Uint8Array>().map(Uint8Array::to_vec) else {
            return Err(js_error(
                "restore takes the Uint8Array snapshot() returned",
                SNAPSHOT_ERROR,
                "snapshot",
                "SnapshotError",
            ));
        };
        self.engine.restore(&bytes).map_err(|e| {
            js_error(
                &clip(e.to_string()),
                SNAPSHOT_ERROR,
                "snapshot",
                "SnapshotError",
            )
        })
    }
}

/// Whether `text` is a detection-rules TOML file rather than EQL: its first
/// line that is not blank or a `#` comment opens a `[section]`, or a line
/// is exactly `[rule]`. (An EQL query never starts with `[`.)
pub fn looks_like_toml(text: &str) -> bool {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    first.is_some_and(|l| l.starts_with('['))
        || text
            .lines()
            .any(|l| l.trim() == "[rule]" || l.trim() == "[metadata]")
}

/// Compiles `text`; a rule error is already mapped to a JS error.
fn build(
    text: &str,
    limits: Limits,
    params: &Params,
) -> Result<Result<Engine, RuleError>, JsValue> {
    if !looks_like_toml(text) {
        let mut rule = Rule::from_eql(text, None);
        params.apply(&mut rule);
        return Ok(Engine::new(rule, limits));
    }
    let mut rule = match Rule::from_toml(text) {
        Ok(rule) => rule,
        Err(e) => return Err(rule_error(&e, toml_error_position(text))),
    };
    params.apply(&mut rule);
    // Where the query sits in the file, to point at the file's lines.
    let origin = text
        .find(rule.query.as_str())
        .map(|at| position_of(text, at));
    match Engine::new(rule, limits) {
        Ok(engine) => Ok(Ok(engine)),
        Err(e) => {
            let in_file = match (e.position, origin) {
                (Some(p), Some((line, column))) if p.line == 1 => {
                    Some((line, column.saturating_add(p.column.saturating_sub(1))))
                }
                (Some(p), Some((line, _))) => {
                    Some((line.saturating_add(p.line.saturating_sub(1)), p.column))
                }
                _ => None,
            };
            Err(rule_error(&e, in_file))
        }
    }
}

/// The 1-based line and column (in characters) of byte offset `at`.
fn position_of(text: &str, at: usize) -> (u32, u32) {
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).unwrap_or("").chars().count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// The position of a TOML syntax error, when the TOML parser can tell.
fn toml_error_position(text: &str) -> Option<(u32, u32)> {
    let err = toml::from_str::<toml::Table>(text).err()?;
    err.span().map(|span| position_of(text, span.start))
}

/// A rule error as a JS error. `in_text` is the position in the text the
/// caller gave, when it differs from the position in the query.
fn rule_error(e: &RuleError, in_text: Option<(u32, u32)>) -> JsValue {
    let at = in_text.or(e.position.map(|p| (p.line, p.column)));
    let message = match at {
        Some((line, column)) => {
            format!("rule error at line {line}, column {column}: {}", e.message)
        }
        None => format!("rule error: {}", e.message),
    };
    let err = js_error(&clip(message), RULE_ERROR, "rule", "RuleError");
    set(&err, "reason", &JsValue::from_str(&clip(e.message.clone())));
    if let Some((line, column)) = at {
        set(&err, "line", &line.into());
        set(&err, "column", &column.into());
    }
    if let Some(p) = e.position {
        set(&err, "queryLine", &p.line.into());
        set(&err, "queryColumn", &p.column.into());
    }
    err
}

/// An example that could not be built (or that the engine did not
/// confirm): code -12, kind `example`, `stage` (1-based) when one is named.
fn example_error(stage: Option<usize>, message: &str) -> JsValue {
    let reason = match stage {
        Some(s) => format!("stage {s}: {message}"),
        None => message.to_string(),
    };
    let err = js_error(
        &clip(format!("no example for this rule: {reason}")),
        RULE_ERROR,
        "example",
        "RuleError",
    );
    set(&err, "reason", &JsValue::from_str(&clip(reason)));
    if let Some(s) = stage {
        set(&err, "stage", &s.into());
    }
    err
}

/// Limits from a JS options object (camelCase, every field optional).
fn limits_from(value: JsValue) -> Result<Limits, JsValue> {
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
struct Params {
    timestamp_field: Option<String>,
    event_category_field: Option<String>,
    mapping: Option<Mapping>,
    max_samples_per_key: Option<usize>,
    tiebreaker_field: Option<String>,
    size: Option<u64>,
    result_position: Option<ResultPosition>,
}

impl Params {
    fn apply(&self, rule: &mut Rule) {
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

fn params_from(value: JsValue) -> Result<Params, JsValue> {
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
struct Options {
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

/// The bytes of an event given as a string, bytes, or a value for `JSON.stringify`.
fn event_bytes(value: &JsValue) -> Result<Vec<u8>, JsValue> {
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

fn push_error(e: &PushError) -> JsValue {
    js_error(
        &clip(format!("event refused: {e}")),
        e.code(),
        e.kind().name(),
        "EventError",
    )
}

/// An `Error` with `name`, `code` and `kind` set.
fn js_error(message: &str, code: i32, kind: &str, name: &str) -> JsValue {
    let err = JsErrorObject::new(message);
    err.set_name(name);
    let err: JsValue = err.into();
    set(&err, "code", &code.into());
    set(&err, "kind", &JsValue::from_str(kind));
    if name != "RuleError" {
        set(&err, "reason", &JsValue::from_str(message));
    }
    err
}

/// Sets a property on an object we just created (cannot fail on a plain `Error`).
fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsString::from(key), value);
}

/// Cuts a message to [`MAX_MESSAGE_BYTES`] at a character boundary.
fn clip(mut message: String) -> String {
    if message.len() > MAX_MESSAGE_BYTES {
        let mut end = MAX_MESSAGE_BYTES - '…'.len_utf8();
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    message
}

/// Serialises to plain JS values: objects (not `Map`s) and numbers.
fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| js_error(&format!("internal: {e}"), RULE_ERROR, "internal", "Error"))
}

/// `rule_core::Example` for JS (its `unexpected` left out: near misses
/// the engine did not confirm are no evidence).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsExample {
    positives: Vec<String>,
    near_misses: Vec<JsNearMiss>,
}

#[derive(Serialize)]
struct JsNearMiss {
    what: String,
    events: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsStats {
    events: u64,
    bytes: u64,
    stage_matches: Vec<u64>,
    alerts: u64,
    errors: rule_core::ErrorCounts,
    ignored_malformed: rule_core::ErrorCounts,
    pending_sequences: u64,
    state_bytes: u64,
    evictions: u64,
    expired: u64,
    late_events: u64,
    reorder_held: u64,
    truncated_keys: u64,
    script_errors: u64,
    script_truncated: u64,
    ended_by_until: u64,
    discarded_by_missing: u64,
    piped_out: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rules: Vec<JsRuleStats>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    refused_rules: Vec<rule_core::RefusedRuleStats>,
}

/// `rule_core::RuleStats` in camelCase.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsRuleStats {
    id: String,
    name: String,
    stage_matches: Vec<u64>,
    alerts: u64,
    pending_sequences: u64,
    state_bytes: u64,
    evictions: u64,
    expired: u64,
    late_events: u64,
    reorder_held: u64,
    truncated_keys: u64,
    script_errors: u64,
    script_truncated: u64,
    ended_by_until: u64,
    discarded_by_missing: u64,
    piped_out: u64,
}

impl From<rule_core::RuleStats> for JsRuleStats {
    fn from(s: rule_core::RuleStats) -> Self {
        JsRuleStats {
            id: s.id,
            name: s.name,
            stage_matches: s.stage_matches,
            alerts: s.alerts,
            pending_sequences: s.pending_sequences,
            state_bytes: s.state_bytes,
            evictions: s.evictions,
            expired: s.expired,
            late_events: s.late_events,
            reorder_held: s.reorder_held,
            truncated_keys: s.truncated_keys,
            script_errors: s.script_errors,
            script_truncated: s.script_truncated,
            ended_by_until: s.ended_by_until,
            discarded_by_missing: s.discarded_by_missing,
            piped_out: s.piped_out,
        }
    }
}

impl From<rule_core::Stats> for JsStats {
    fn from(s: rule_core::Stats) -> Self {
        JsStats {
            events: s.events,
            bytes: s.bytes,
            stage_matches: s.stage_matches,
            alerts: s.alerts,
            errors: s.errors,
            ignored_malformed: s.ignored_malformed,
            pending_sequences: s.pending_sequences,
            state_bytes: s.state_bytes,
            evictions: s.evictions,
            expired: s.expired,
            late_events: s.late_events,
            reorder_held: s.reorder_held,
            truncated_keys: s.truncated_keys,
            script_errors: s.script_errors,
            script_truncated: s.script_truncated,
            ended_by_until: s.ended_by_until,
            discarded_by_missing: s.discarded_by_missing,
            piped_out: s.piped_out,
            rules: s.rules.into_iter().map(JsRuleStats::from).collect(),
            refused_rules: s.refused_rules,
        }
    }
}

#[derive(Serialize)]
struct JsExplanation {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_is_told_from_eql() {
        assert!(looks_like_toml(EMBEDDED_RULE_TOML));
        assert!(looks_like_toml("# a comment\n\n[rule]\nquery = 'x'"));
        assert!(looks_like_toml("name = 1\n[rule]\n"));
        assert!(!looks_like_toml(&Rule::embedded().query));
        assert!(!looks_like_toml("network where true"));
        assert!(!looks_like_toml(""));
    }

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

    #[test]
    fn positions_count_characters() {
        assert_eq!(position_of("ab\ncé x", 7), (2, 4));
        assert_eq!(position_of("abc", 0), (1, 1));
    }

    #[test]
    fn messages_are_clipped_at_a_boundary() {
        let long = "é".repeat(MAX_MESSAGE_BYTES);
        let cut = clip(long);
        assert!(cut.len() <= MAX_MESSAGE_BYTES);
        assert!(cut.ends_with('…'));
    }
}
