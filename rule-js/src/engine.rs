//! `RuleEngine`, the class JavaScript sees: each method reads its
//! arguments, calls the engine and hands the result back as plain values.

use js_sys::Uint8Array;
use rule_core::{Engine, Limits, PushError, Rule, EMBEDDED_RULE_TOML};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::errors::{clip, example_error, js_error, push_error, RULE_ERROR, SNAPSHOT_ERROR};
use crate::options::{limits_from, params_from, Options};
use crate::rule_text::{build, looks_like_toml, rule_error};
use crate::shapes::{
    AlertArray, BatchArg, BatchReportValue, EventArg, ExplanationValue, LimitsValue,
    RuleExampleValue, RuleMetaValue, StatsValue,
};
use crate::stats::stats_to_js;
use crate::values::{event_bytes, to_js, JsExample, JsExplanation, Report};

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
        to_js(&JsExample::from(example)).map(JsCast::unchecked_into)
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
        to_js(&Report::from(&report)).map(JsCast::unchecked_into)
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
        stats_to_js(&self.engine.stats()).map(JsCast::unchecked_into)
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
