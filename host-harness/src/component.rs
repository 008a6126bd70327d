//! The rule as a WebAssembly component (`rule-component`, WIT package
//! `rule:detector@1.0.0`) under wasmtime's component API, treated as
//! untrusted code like the core module: its memory is capped
//! (`StoreLimits`), each call has a CPU bound (fuel or an epoch deadline),
//! and a trap drops the instance for a fresh one with the configuration in
//! force replayed.
//!
//! The host gives the component nothing: every import (the WASI interfaces
//! the Rust standard library links in, see [`WasmComponent::imports`] and
//! `docs/ABI.md`) is defined as a function that traps. No file system, no
//! environment, no clock, no stdio, no network; the engine calls none of
//! them, and a component that did would trap and be replaced.
//!
//! ```no_run
//! use host_harness::{Detector, HostLimits, WasmComponent};
//!
//! let component = WasmComponent::from_file("rule_component.wasm".as_ref(), HostLimits::default())?;
//! let mut detector = component.instantiate()?;
//! detector.push_event(br#"{"@timestamp": "2024-01-01T00:00:00Z"}"#)?;
//! let alerts = detector.drain_alerts()?;
//! # Ok::<(), host_harness::HostError>(())
//! ```
//!
//! [`ComponentDetector`] implements [`Detector`] and answers as the other
//! backends do, byte for byte: the component's typed errors become the
//! core module's codes and messages. One difference is the component
//! model's: its strings are UTF-8, so an event that is not is refused here,
//! before the call, with the engine's code (-3) and message; the engine's
//! `errors.invalid_utf8` counter does not see it, and the engine's earlier
//! checks (back-pressure, size) do not come first.

use std::path::Path;
use std::sync::Arc;

use rule_core::{Position, PushError, RuleError, SnapshotError};
use wasmtime::component::{Component, Linker, ResourceAny};
use wasmtime::{Engine, Store, StoreLimitsBuilder};

use crate::cache::Entry;
use crate::detector::{Backend, BatchOutcome, Detector, RefusedLine};
use crate::error::HostError;
use crate::sandbox::{
    arm, fuel_burnt, sandbox_engine, ticker, trap_cause, HostLimits, Limiter, Ticker,
};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../rule-component/wit",
        world: "rule-engine",
    });
}

use bindings::exports::rule::detector::detection::{
    BatchReport, Error as WitError, SnapshotError as WitSnapshotError,
};
use bindings::{RuleEngine, RuleEnginePre};

/// The interface the component exports, as the component model names it.
pub const COMPONENT_INTERFACE: &str = "rule:detector/detection@1.0.0";

/// A compiled rule component, ready to be instantiated (cheap to clone).
#[derive(Clone)]
pub struct WasmComponent {
    engine: Engine,
    component: Component,
    pre: RuleEnginePre<Limiter>,
    limits: HostLimits,
    _ticker: Option<Arc<Ticker>>,
}

fn compile(engine: &Engine, bytes: &[u8]) -> Result<Component, HostError> {
    Component::new(engine, bytes).map_err(|e| HostError::Compile(format!("{e:#}")))
}

impl WasmComponent {
    /// Compiles the component in `path` (binary, or `.wat` text).
    pub fn from_file(path: &Path, limits: HostLimits) -> Result<WasmComponent, HostError> {
        let bytes = std::fs::read(path).map_err(|source| HostError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        WasmComponent::from_bytes(&bytes, limits)
    }

    /// As [`WasmComponent::from_file`], with the compiled code kept in
    /// `dir` and loaded from there when the same bytes come again (see
    /// [`WasmModule::from_file_cached`](crate::WasmModule::from_file_cached)).
    pub fn from_file_cached(
        path: &Path,
        limits: HostLimits,
        dir: &Path,
    ) -> Result<WasmComponent, HostError> {
        let bytes = std::fs::read(path).map_err(|source| HostError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let engine = sandbox_engine(&limits.cpu)?;
        let entry = Entry::new(dir, &engine, "component", &bytes);
        // SAFETY: as in `WasmModule::from_file_cached`: only bytes
        // `Component::serialize` stored for exactly these source bytes.
        let cached = entry
            .load(&bytes)
            .and_then(|compiled| unsafe { Component::deserialize(&engine, compiled) }.ok());
        let component = match cached {
            Some(component) => component,
            None => {
                let component = compile(&engine, &bytes)?;
                if let Ok(compiled) = component.serialize() {
                    entry.store(&bytes, &compiled);
                }
                component
            }
        };
        WasmComponent::new(engine, component, limits)
    }

    /// Compiles a component from its bytes and checks that it exports
    /// [`COMPONENT_INTERFACE`] with the functions this host calls. Its
    /// imports, whatever they are, are defined as traps.
    pub fn from_bytes(bytes: &[u8], limits: HostLimits) -> Result<WasmComponent, HostError> {
        let engine = sandbox_engine(&limits.cpu)?;
        let component = compile(&engine, bytes)?;
        WasmComponent::new(engine, component, limits)
    }

    fn new(
        engine: Engine,
        component: Component,
        limits: HostLimits,
    ) -> Result<WasmComponent, HostError> {
        let mut linker = Linker::new(&engine);
        linker
            .define_unknown_imports_as_traps(&component)
            .map_err(|e| HostError::Compile(format!("{e:#}")))?;
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(|e| HostError::Instantiate(format!("{e:#}")))?;
        let pre = RuleEnginePre::new(instance_pre).map_err(|e| HostError::Export {
            name: COMPONENT_INTERFACE,
            message: format!("{e:#}"),
        })?;
        let ticker = ticker(&engine, &limits.cpu)?;
        Ok(WasmComponent {
            engine,
            component,
            pre,
            limits,
            _ticker: ticker,
        })
    }

    pub fn limits(&self) -> &HostLimits {
        &self.limits
    }

    /// What the component imports, one line per item:
    /// `interface#function` for a function, `interface#name (resource)`
    /// for a resource type, `name` for anything at the top level. Sorted.
    pub fn imports(&self) -> Vec<String> {
        let ty = self.component.component_type();
        let mut out = Vec::new();
        for (name, item) in ty.imports(&self.engine) {
            describe_item(&self.engine, name, &item.ty, &mut out);
        }
        out.sort();
        out
    }

    /// A fresh instance with the embedded rule and default limits.
    pub fn instantiate(&self) -> Result<ComponentDetector, HostError> {
        let live = Live::new(self, None).map_err(|e| match e {
            Start::Refused(e) => HostError::Instantiate(format!("create: {e:?}")),
            Start::Failed(e) => e,
        })?;
        Ok(ComponentDetector {
            component: self.clone(),
            live: Some(live),
            config: None,
            restarts: 0,
        })
    }
}

fn describe_item(
    engine: &Engine,
    name: &str,
    item: &wasmtime::component::types::ComponentItem,
    out: &mut Vec<String>,
) {
    use wasmtime::component::types::ComponentItem;
    match item {
        ComponentItem::ComponentInstance(instance) => {
            for (inner, item) in instance.exports(engine) {
                match item.ty {
                    ComponentItem::ComponentFunc(_) => out.push(format!("{name}#{inner}")),
                    ComponentItem::Resource(_) => out.push(format!("{name}#{inner} (resource)")),
                    other => describe_item(engine, &format!("{name}#{inner}"), &other, out),
                }
            }
        }
        ComponentItem::ComponentFunc(_) => out.push(format!("{name} (function)")),
        ComponentItem::Resource(_) => out.push(format!("{name} (resource)")),
        ComponentItem::Type(_) => out.push(format!("{name} (type)")),
        ComponentItem::Component(_) => out.push(format!("{name} (component)")),
        ComponentItem::Module(_) => out.push(format!("{name} (module)")),
        ComponentItem::CoreFunc(_) => out.push(format!("{name} (core function)")),
    }
}

/// One instance, in its own store, and the detector resource it holds.
struct Live {
    store: Store<Limiter>,
    bindings: RuleEngine,
    detector: ResourceAny,
}

/// Why an instance could not be started.
enum Start {
    /// `create` refused the configuration.
    Refused(WitError),
    /// Anything else (a trap, a failed instantiation).
    Failed(HostError),
}

impl Live {
    fn new(c: &WasmComponent, config: Option<&str>) -> Result<Live, Start> {
        // A component is several core instances (the engine, and the shims
        // wit-component adds); one memory, the engine's.
        let limits = StoreLimitsBuilder::new()
            .memory_size(c.limits.max_memory_bytes)
            .table_elements(c.limits.max_table_elements)
            .instances(16)
            .memories(4)
            .tables(8)
            .build();
        let mut store = Store::new(&c.engine, Limiter::new(limits));
        store.limiter(|l| l);
        arm(&mut store, &c.limits.cpu, 0);
        let bindings = c
            .pre
            .instantiate(&mut store)
            .map_err(|e| Start::Failed(HostError::Instantiate(format!("{e:#}"))))?;
        arm(&mut store, &c.limits.cpu, config.map_or(0, str::len));
        let created = bindings
            .rule_detector_detection()
            .detector()
            .call_create(&mut store, config)
            .map_err(|e| Start::Failed(HostError::Instantiate(format!("create: {e:#}"))))?;
        match created {
            Ok(detector) => Ok(Live {
                store,
                bindings,
                detector,
            }),
            Err(e) => Err(Start::Refused(e)),
        }
    }
}

/// One live instance of the component, replaced by a fresh one after a
/// trap.
pub struct ComponentDetector {
    component: WasmComponent,
    live: Option<Live>,
    /// The configuration in force, replayed into a fresh instance.
    config: Option<String>,
    restarts: u64,
}

/// The calls a [`Live`] instance takes, by the names the trait knows.
type Api<'a> = bindings::exports::rule::detector::detection::GuestDetector<'a>;

impl ComponentDetector {
    /// How many times a trap replaced the instance.
    pub fn restarts(&self) -> u64 {
        self.restarts
    }

    /// The component's linear memory size now, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.live
            .as_ref()
            .map_or(0, |l| l.store.data().memory_bytes())
    }

    /// Fuel the instance has burnt so far (about one unit per wasm
    /// instruction executed), when the component runs under a fuel bound.
    pub fn fuel_burnt(&self) -> Option<u64> {
        self.live.as_ref().and_then(|l| fuel_burnt(&l.store))
    }

    fn live(&mut self) -> Result<&mut Live, HostError> {
        if self.live.is_none() {
            self.restart()?;
        }
        Ok(self.live.as_mut().expect("restart set it"))
    }

    /// A fresh instance, with the configuration in force replayed.
    fn restart(&mut self) -> Result<(), HostError> {
        self.live = None;
        let live = Live::new(&self.component, self.config.as_deref()).map_err(|e| match e {
            Start::Refused(e) => HostError::Instantiate(format!(
                "the fresh instance refused the configuration in force: {e:?}"
            )),
            Start::Failed(e) => e,
        })?;
        self.live = Some(live);
        Ok(())
    }

    /// After a trap, or an answer the interface does not allow: drop the
    /// instance, try a fresh one.
    fn recover(&mut self, export: &'static str, error: wasmtime::Error) -> HostError {
        let denied = self.live.as_ref().is_some_and(|l| l.store.data().denied());
        let (cause, message) = trap_cause(&error, denied);
        self.restarts += 1;
        let restarted = self.restart().is_ok();
        HostError::Trap {
            export,
            cause,
            message,
            restarted,
        }
    }

    /// An answer the interface allows in its types but not for this call
    /// (a configuration error from `push-event`, ...): the instance is not
    /// to be trusted any more.
    fn broke_interface(&mut self, export: &'static str, answer: &WitError) -> HostError {
        self.restarts += 1;
        let _ = self.restart();
        HostError::Abi {
            export,
            message: format!("answered {answer:?}, which this call never answers"),
        }
    }

    /// Calls the component with a CPU budget for `input_len` bytes. An
    /// input the memory cap leaves no room for is refused before the call
    /// (as the module's `alloc` refuses it): copying it in would trap and
    /// lose the state.
    fn call<R>(
        &mut self,
        export: &'static str,
        input_len: usize,
        f: impl FnOnce(&Api<'_>, &mut Store<Limiter>, ResourceAny) -> wasmtime::Result<R>,
    ) -> Result<R, HostError> {
        let cpu = self.component.limits.cpu;
        let cap = self.component.limits.max_memory_bytes;
        let live = self.live()?;
        if input_len > cap.saturating_sub(live.store.data().memory_bytes()) {
            return Err(HostError::Alloc {
                len: input_len,
                cap,
            });
        }
        arm(&mut live.store, &cpu, input_len);
        let api = live.bindings.rule_detector_detection().detector();
        match f(&api, &mut live.store, live.detector) {
            Ok(r) => Ok(r),
            Err(e) => Err(self.recover(export, e)),
        }
    }

    /// The answer to a push: alerts pending, or the module's code and
    /// message for the refusal.
    fn pushed(
        &mut self,
        export: &'static str,
        answer: Result<u32, WitError>,
    ) -> Result<usize, HostError> {
        match answer {
            Ok(n) => Ok(n as usize),
            Err(e) => match push_refusal(&e) {
                Some((code, words)) => Err(HostError::Refused {
                    code,
                    message: clipped(format!("event refused: {words}")),
                }),
                None => Err(self.broke_interface(export, &e)),
            },
        }
    }
}

impl Detector for ComponentDetector {
    fn backend(&self) -> Backend {
        Backend::Component
    }

    fn configure(&mut self, config_json: &[u8]) -> Result<(), HostError> {
        let Ok(config) = std::str::from_utf8(config_json) else {
            // What the module's `configure` says of the same bytes.
            let why = rule_wasm::parse_config(config_json)
                .err()
                .unwrap_or_else(|| "the configuration is not UTF-8".into());
            return Err(HostError::Config {
                message: clipped(format!("configure: {why}")),
            });
        };
        let created = self.call("create", config.len(), |api, store, _| {
            api.call_create(&mut *store, Some(config))
        })?;
        match created {
            Ok(fresh) => {
                let cpu = self.component.limits.cpu;
                let live = self.live()?;
                let old = std::mem::replace(&mut live.detector, fresh);
                arm(&mut live.store, &cpu, 0);
                if let Err(e) = old.resource_drop(&mut live.store) {
                    return Err(self.recover("[resource-drop]detector", e));
                }
                self.config = Some(config.to_string());
                Ok(())
            }
            Err(e) => match config_words(&e) {
                Some(words) => Err(HostError::Config {
                    message: clipped(format!("configure: {words}")),
                }),
                None => Err(self.broke_interface("create", &e)),
            },
        }
    }

    fn push_event(&mut self, event: &[u8]) -> Result<usize, HostError> {
        let json = utf8_event(event)?;
        let answer = self.call("push-event", json.len(), |api, store, d| {
            api.call_push_event(&mut *store, d, json)
        })?;
        self.pushed("push-event", answer)
    }

    fn push_event_with_time(&mut self, event: &[u8], fallback_ms: i64) -> Result<usize, HostError> {
        let json = utf8_event(event)?;
        let answer = self.call("push-event-with-time", json.len(), |api, store, d| {
            api.call_push_event_with_time(&mut *store, d, json, fallback_ms)
        })?;
        self.pushed("push-event-with-time", answer)
    }

    fn push_events(&mut self, batch: &[u8]) -> Result<BatchOutcome, HostError> {
        // Lines that are not UTF-8 cannot go into a string: they are refused
        // here and sent as blank lines, which keeps the line numbers.
        let (text, not_utf8) = match std::str::from_utf8(batch) {
            Ok(text) => (std::borrow::Cow::Borrowed(text), Vec::new()),
            Err(_) => split_utf8(batch),
        };
        let answer = self.call("push-events", text.len(), |api, store, d| {
            api.call_push_events(&mut *store, d, &text)
        })?;
        match answer {
            Ok(report) => Ok(outcome(report, not_utf8)),
            Err(e) => match push_refusal(&e) {
                Some((code, words)) => Err(HostError::Refused {
                    code,
                    message: clipped(format!("batch refused: {words}")),
                }),
                None => Err(self.broke_interface("push-events", &e)),
            },
        }
    }

    fn drain_alerts(&mut self) -> Result<Vec<u8>, HostError> {
        let alerts = self.call("drain-alerts", 0, |api, store, d| {
            api.call_drain_alerts(&mut *store, d)
        })?;
        let mut out = Vec::with_capacity(alerts.iter().map(|a| a.len() + 1).sum());
        for alert in alerts {
            out.extend_from_slice(alert.as_bytes());
            out.push(b'\n');
        }
        Ok(out)
    }

    fn flush(&mut self) -> Result<usize, HostError> {
        let n = self.call("flush", 0, |api, store, d| api.call_flush(&mut *store, d))?;
        Ok(n as usize)
    }

    fn advance_time(&mut self, now_ms: i64) -> Result<usize, HostError> {
        let n = self.call("advance-time", 0, |api, store, d| {
            api.call_advance_time(&mut *store, d, now_ms)
        })?;
        Ok(n as usize)
    }

    fn stats(&mut self) -> Result<String, HostError> {
        self.call("stats", 0, |api, store, d| api.call_stats(&mut *store, d))
    }

    fn snapshot(&mut self) -> Result<Vec<u8>, HostError> {
        self.call("snapshot", 0, |api, store, d| {
            api.call_snapshot(&mut *store, d)
        })
    }

    fn restore(&mut self, snapshot: &[u8]) -> Result<(), HostError> {
        let answer = self.call("restore", snapshot.len(), |api, store, d| {
            api.call_restore(&mut *store, d, snapshot)
        })?;
        match answer {
            Ok(()) => Ok(()),
            Err(WitError::BadSnapshot(why)) => Err(HostError::Refused {
                code: rule_wasm::SNAPSHOT_ERROR,
                message: clipped(format!("snapshot refused: {}", snapshot_words(&why))),
            }),
            Err(e) => Err(self.broke_interface("restore", &e)),
        }
    }
}

/// The event as a string, or the engine's refusal of bytes that are not
/// UTF-8 (its offset counts from the first byte that is not white space,
/// as the engine's does).
fn utf8_event(event: &[u8]) -> Result<&str, HostError> {
    std::str::from_utf8(event).map_err(|e| {
        let refusal = PushError::InvalidUtf8 {
            offset: e.valid_up_to() - leading_space(event),
        };
        HostError::Refused {
            code: refusal.code(),
            message: clipped(format!("event refused: {refusal}")),
        }
    })
}

fn leading_space(bytes: &[u8]) -> usize {
    bytes.len() - bytes.trim_ascii_start().len()
}

/// A batch that is not all UTF-8, with its bad lines blanked, and those
/// lines (1-based) with the engine's words for them.
fn split_utf8(batch: &[u8]) -> (std::borrow::Cow<'_, str>, Vec<RefusedLine>) {
    let mut text = String::with_capacity(batch.len());
    let mut refused = Vec::new();
    for (n, line) in batch.split(|&b| b == b'\n').enumerate() {
        if n > 0 {
            text.push('\n');
        }
        match std::str::from_utf8(line) {
            Ok(line) => text.push_str(line),
            Err(e) => refused.push(RefusedLine {
                line: n + 1,
                message: PushError::InvalidUtf8 {
                    offset: e.valid_up_to() - leading_space(line),
                }
                .to_string(),
            }),
        }
    }
    (std::borrow::Cow::Owned(text), refused)
}

/// The component's batch report, merged with the lines refused here, as
/// the module lists them: in order, at most `MAX_LISTED_LINES`, each
/// message cut as `line N: <message>` is.
fn outcome(report: BatchReport, host_refused: Vec<RefusedLine>) -> BatchOutcome {
    let mut refused: Vec<RefusedLine> = report
        .refused
        .into_iter()
        .map(|r| RefusedLine {
            line: r.line as usize,
            message: r.message,
        })
        .chain(host_refused)
        .collect();
    refused.sort_by_key(|r| r.line);
    let mut unlisted = report.unlisted as usize;
    if refused.len() > rule_wasm::MAX_LISTED_LINES {
        unlisted += refused.len() - rule_wasm::MAX_LISTED_LINES;
        refused.truncate(rule_wasm::MAX_LISTED_LINES);
    }
    for r in &mut refused {
        let prefix = format!("line {}: ", r.line);
        let whole = clipped(format!("{prefix}{}", r.message));
        r.message = whole[prefix.len()..].to_string();
    }
    BatchOutcome {
        alerts_pending: (refused.is_empty() && unlisted == 0)
            .then_some(report.alerts_pending as usize),
        refused,
        unlisted,
    }
}

/// The module's code and words for a refused event, from the component's
/// typed error; `None` for a case no push answers.
fn push_refusal(e: &WitError) -> Option<(i32, String)> {
    let owned = |s: &str| s.to_string();
    let push = match e {
        WitError::Empty => PushError::Empty,
        WitError::TooLarge(t) => PushError::TooLarge {
            len: usize::try_from(t.len).unwrap_or(usize::MAX),
            max: usize::try_from(t.max).unwrap_or(usize::MAX),
        },
        WitError::InvalidUtf8(offset) => PushError::InvalidUtf8 {
            offset: usize::try_from(*offset).unwrap_or(usize::MAX),
        },
        WitError::InvalidJson(message) => PushError::InvalidJson {
            message: owned(message),
        },
        WitError::NotAnObject => PushError::NotAnObject,
        WitError::WrongType(w) => {
            // rule-core's `expected` is a `&'static str`; its words are
            // rule-core's `Display` for `WrongType` (a test pins them).
            let code = PushError::WrongType {
                field: String::new(),
                expected: "",
            }
            .code();
            return Some((code, format!("field `{}` must be {}", w.field, w.expected)));
        }
        WitError::MalformedIp(m) => PushError::MalformedIp {
            field: owned(&m.field),
            value: owned(&m.value),
        },
        WitError::MissingTimestamp => PushError::MissingTimestamp,
        WitError::BadTimestamp(value) => PushError::BadTimestamp {
            value: owned(value),
        },
        WitError::BackPressure => PushError::BackPressure,
        WitError::BadConfig(_) | WitError::BadRule(_) | WitError::BadSnapshot(_) => return None,
    };
    Some((push.code(), push.to_string()))
}

/// The module's words for a refused configuration; `None` for a case
/// `create` never answers.
fn config_words(e: &WitError) -> Option<String> {
    match e {
        WitError::BadConfig(message) => Some(message.clone()),
        WitError::BadRule(r) => Some(
            RuleError {
                position: r.position.map(|p| Position {
                    line: p.line,
                    column: p.column,
                }),
                message: r.message.clone(),
            }
            .to_string(),
        ),
        _ => None,
    }
}

/// rule-core's words for a refused snapshot.
fn snapshot_words(e: &WitSnapshotError) -> String {
    match e {
        WitSnapshotError::NotASnapshot => SnapshotError::NotASnapshot.to_string(),
        WitSnapshotError::UnsupportedVersion(v) => {
            SnapshotError::UnsupportedVersion(*v).to_string()
        }
        // `Corrupt` holds a `&'static str`: its words are rule-core's
        // `Display` for it (a test pins them).
        WitSnapshotError::Corrupt(what) => format!("corrupt snapshot: {what}"),
        WitSnapshotError::IncompatibleRule(shape) => SnapshotError::IncompatibleRule {
            stages: shape.stages,
            keys: shape.keys,
        }
        .to_string(),
    }
}

/// A message cut as the module cuts `last_error`.
fn clipped(mut s: String) -> String {
    rule_wasm::clip_message(&mut s, 0);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use bindings::exports::rule::detector::detection::{RuleShape, WrongType};

    #[test]
    fn the_words_are_rule_cores() {
        for expected in ["a keyword (string)", "an object", "a number"] {
            let wit = WitError::WrongType(WrongType {
                field: "process.executable".into(),
                expected: expected.into(),
            });
            let core = PushError::WrongType {
                field: "process.executable".into(),
                expected,
            };
            assert_eq!(push_refusal(&wit), Some((core.code(), core.to_string())));
        }
        assert_eq!(
            snapshot_words(&WitSnapshotError::Corrupt("checksum does not match".into())),
            SnapshotError::Corrupt("checksum does not match").to_string()
        );
        assert_eq!(
            snapshot_words(&WitSnapshotError::IncompatibleRule(RuleShape {
                stages: 3,
                keys: 1
            })),
            SnapshotError::IncompatibleRule { stages: 3, keys: 1 }.to_string()
        );
        assert_eq!(push_refusal(&WitError::BadConfig("x".into())), None);
        assert_eq!(config_words(&WitError::Empty), None);
    }

    #[test]
    fn bad_utf8_lines_are_blanked_and_listed_in_order() {
        let batch = b"{\"a\":1}\n  \xff\n\n{\"b\":\"\xc3\"}\n";
        let (text, refused) = split_utf8(batch);
        assert_eq!(text, "{\"a\":1}\n\n\n\n");
        let lines: Vec<(usize, &str)> = refused
            .iter()
            .map(|r| (r.line, r.message.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                (2, "invalid UTF-8 at byte 0"),
                (4, "invalid UTF-8 at byte 6")
            ]
        );
        let report = BatchReport {
            taken: 1,
            refused: vec![],
            unlisted: 0,
            alerts_pending: 0,
        };
        let o = outcome(report, refused);
        assert_eq!(o.refused.len(), 2);
        assert_eq!(o.alerts_pending, None);
    }

    #[test]
    fn clipping_is_the_modules() {
        let long = "é".repeat(rule_wasm::MAX_MESSAGE_BYTES);
        let c = clipped(long);
        assert!(c.ends_with('…'));
        assert!(c.len() <= rule_wasm::MAX_MESSAGE_BYTES + '…'.len_utf8());
        assert_eq!(clipped("short".into()), "short");
    }
}
