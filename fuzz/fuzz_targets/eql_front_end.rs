//! Any text as a rule: compiling must answer Ok or a RuleError, never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rule_core::{Engine, Limits, Rule};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = Engine::new(Rule::from_eql(text, None), Limits::default()) {
            if let Some(p) = e.position {
                assert!(p.line >= 1 && p.column >= 1);
            }
        }
    }
});
