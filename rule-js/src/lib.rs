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

mod engine;
mod errors;
mod options;
mod rule_text;
mod shapes;
mod stats;
mod values;

pub use engine::RuleEngine;
pub use errors::{MAX_MESSAGE_BYTES, RULE_ERROR, SNAPSHOT_ERROR};
pub use rule_text::looks_like_toml;
pub use shapes::{
    AlertArray, BatchArg, BatchReportValue, EventArg, ExplanationValue, LimitsValue,
    RuleExampleValue, RuleMetaValue, StatsValue,
};
