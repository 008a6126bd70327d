//! Elasticsearch's EQL as a streaming engine: push events one at a time,
//! drain alerts as results complete. Any EQL query runs (event queries,
//! sequences with `until`, `runs` and missing events, samples, every
//! function and operator); the default rule is Elastic Security's "Network
//! Connection Followed by File Creation" (rule
//! `01c1e353-9d86-4344-abdf-523ab80c6f08`). `no_std` + `alloc`, so the same
//! engine runs natively, in a wasm module, a component or a browser.
//!
//! The rule is its text. [`Rule::embedded`] reads Elastic's own `rule.toml`;
//! its EQL query goes through this crate's front end in stages that know
//! nothing of each other's internals:
//!
//! 1. [`syntax`]: lexer and parser, EQL text to a syntax tree;
//! 2. `compile`: the tree to a plan, every field typed as Elasticsearch maps
//!    it (from a [`Mapping`], ECS's types, or its use), every condition a
//!    Lucene-style query leaf or a script, as Elasticsearch's translator
//!    decides;
//! 3. `decode` + `eval` + `sequence`/`sample`: the plan runs on events,
//!    reading only the fields it names, and a state machine joins the stages.
//!
//! ```
//! use rule_core::{Engine, PushError};
//!
//! let mut engine = Engine::with_embedded_rule();
//! let common = r#""host":{"id":"h1","os":{"type":"linux"}},
//!     "process":{"entity_id":"p1","executable":"/tmp/agent","name":"agent"}"#;
//! let network = format!(r#"{{"@timestamp":"2026-11-22T07:33:01.1234567Z",{common},
//!     "event":{{"category":["network"],"type":["start"],"action":"connection_attempted"}},
//!     "destination":{{"ip":"203.0.114.7"}}}}"#);
//! let file = format!(r#"{{"@timestamp":"2026-11-22T07:33:03.5Z",{common},
//!     "event":{{"category":["file"],"type":["creation"],"action":"creation"}},
//!     "file":{{"path":"/tmp/task.sh","name":"task.sh","extension":"sh"}}}}"#);
//!
//! assert_eq!(engine.push(network.as_bytes()), Ok(0));
//! assert_eq!(engine.push(file.as_bytes()), Ok(1)); // one alert waiting
//! let alert = engine.drain().remove(0);
//! assert!(alert.as_str().contains(r#""rule":{"author":["Elastic"]"#));
//!
//! // Bad input is refused with a typed error; the state is untouched.
//! assert!(matches!(engine.push(b"{oops"), Err(PushError::InvalidJson { .. })));
//! assert_eq!(engine.stats().errors.total(), 1);
//! ```
//!
//! # Semantics
//!
//! Elasticsearch's, not the Python `eql` package's, where they differ (the
//! repository's `SEMANTICS.md` rows S1-S9, P1-P12; `tests/fixtures/semantics.json`
//! has a stream for each): case-sensitive `==`/`in`/`like`, two-valued logic
//! on missing fields, any-element matching on arrays, IPv4-mapped IPv6 as
//! IPv4, millisecond time with inclusive maxspan, one join key per value of a
//! multi-valued key field, no part in any sequence for a missing key.
//! Beyond the seed rule: `not` pushed into comparisons as Elasticsearch's
//! optimizer does (`not (x > 1)` is `x <= 1`, which a missing `x` fails),
//! and computed conditions run as its scripts do (every value tried, a
//! missing field `null`, `null` false); Elasticsearch's own EQL specs run
//! in the test suite (`tests/tests/conformance.rs` in the workspace).
//!
//! # Invariants
//!
//! - No input panics the engine; a refused event leaves the state as it was
//!   and is counted in [`Stats::errors`].
//! - No alert is dropped: when [`Limits::max_buffered_alerts`] is reached,
//!   [`Engine::push`] answers [`PushError::BackPressure`] without consuming.
//! - State is bounded by [`Limits`]; at a bound the oldest pending sequence
//!   is evicted and counted, never an arbitrary one.
//! - The cost of an event does not grow with the number of pending
//!   sequences: they are found by hash and expire from an age-ordered queue.
//! - An alert's `Events` are the matched events byte for byte as pushed
//!   (surrounding white space aside).
#![no_std]
extern crate alloc;

mod alert;
mod compile;
mod decode;
pub mod ecs;
mod engine;
mod error;
mod eval;
mod example;
mod explain;
mod functions;
mod ip;
pub mod mapping;
mod pattern;
mod pipes;
mod plan;
mod regexp;
mod rule;
mod sample;
mod sequence;
mod snapshot;
mod stats;
mod swar;
pub mod syntax;
pub mod time;
mod value;
mod version;

pub use decode::msgpack::{msgpack_depth, to_json as msgpack_to_json};
pub use engine::{Alert, BatchReport, Engine, Limits, RefusedRule, MAX_KEYS_PER_EVENT};
pub use error::{ErrorKind, Position, PushError, RuleError};
pub use example::{example, Example, ExampleError, NearMiss};
pub use explain::{Explanation, FieldValues, Node, Outcome, StageExplanation};
pub use mapping::{EsType, Mapping};
pub use regexp::{Regexp, RegexpError, RegexpErrorKind};
pub use rule::{
    text_position, QueryParams, ResultPosition, Rule, RuleMeta, Technique, Threat, ThreatRef,
    EMBEDDED_RULE_TOML,
};
pub use snapshot::{RestoreReport, SnapshotError, SNAPSHOT_VERSION};
pub use stats::{ErrorCounts, RefusedRuleStats, RuleStats, Stats};
