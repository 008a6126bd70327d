//! Elastic Security's EQL sequence rule "Network Connection Followed by File
//! Creation", as a streaming engine that runs anywhere: `no_std` + `alloc`.
#![no_std]
extern crate alloc;

mod engine;
mod error;
mod rule;
mod stats;

pub use engine::{Alert, BatchReport, Engine, Limits};
pub use error::{ErrorKind, Position, PushError, RuleError};
pub use rule::{Rule, RuleMeta, Technique, Threat, ThreatRef, EMBEDDED_RULE_TOML};
pub use stats::Stats;
