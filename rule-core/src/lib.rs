//! Elastic Security's EQL sequence rule "Network Connection Followed by File
//! Creation", as a streaming engine that runs anywhere: `no_std` + `alloc`.
#![no_std]
extern crate alloc;

mod alert;
mod compile;
mod decode;
mod engine;
mod error;
mod eval;
mod ip;
mod pattern;
mod plan;
mod rule;
mod sequence;
mod stats;
pub mod syntax;
mod time;

pub use engine::{Alert, BatchReport, Engine, Limits, MAX_KEYS_PER_EVENT};
pub use error::{ErrorKind, Position, PushError, RuleError};
pub use rule::{Rule, RuleMeta, Technique, Threat, ThreatRef, EMBEDDED_RULE_TOML};
pub use stats::{ErrorCounts, Stats};
