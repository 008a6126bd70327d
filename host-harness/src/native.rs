//! rule-core in process, through the same adapter the wasm module exports
//! (`rule_wasm::Module`), so that both backends answer byte for byte alike.

use std::panic::{catch_unwind, AssertUnwindSafe};

use rule_wasm::Module;

use crate::detector::{batch_outcome, count_or_refused, Backend, BatchOutcome, Detector};
use crate::error::HostError;

/// The native backend. It shares the host's process: a panic in the engine
/// is caught (and the engine replaced) where the build unwinds; under
/// `panic = "abort"` (the release profile) it ends the process. Use the
/// wasm backend to isolate the engine.
pub struct NativeDetector {
    module: Module,
    config: Option<Vec<u8>>,
}

impl Default for NativeDetector {
    fn default() -> Self {
        NativeDetector::new()
    }
}

impl NativeDetector {
    /// The embedded rule with default limits.
    pub fn new() -> NativeDetector {
        NativeDetector {
            module: Module::new(),
            config: None,
        }
    }

    /// Access to the engine, for callers that need more than the ABI.
    pub fn module(&self) -> &Module {
        &self.module
    }

    fn guarded<R>(
        &mut self,
        call: &'static str,
        f: impl FnOnce(&mut Module) -> R,
    ) -> Result<R, HostError> {
        match catch_unwind(AssertUnwindSafe(|| f(&mut self.module))) {
            Ok(r) => Ok(r),
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic payload".to_string());
                // A fresh engine, with the configuration that was in force.
                self.module = Module::new();
                if let Some(config) = &self.config {
                    let _ = catch_unwind(AssertUnwindSafe(|| self.module.configure(config)));
                }
                Err(HostError::Panic { call, message })
            }
        }
    }
}

impl Detector for NativeDetector {
    fn backend(&self) -> Backend {
        Backend::Native
    }

    fn configure(&mut self, config_json: &[u8]) -> Result<(), HostError> {
        let (code, message) = self.guarded("configure", |m| {
            let code = m.configure(config_json);
            (code, m.last_error().to_string())
        })?;
        count_or_refused(code, || message)?;
        self.config = Some(config_json.to_vec());
        Ok(())
    }

    fn push_event(&mut self, event: &[u8]) -> Result<usize, HostError> {
        let (code, message) = self.guarded("push_event", |m| {
            let code = m.push_event(event);
            answer(m, code)
        })?;
        count_or_refused(code, || message)
    }

    fn push_event_with_time(&mut self, event: &[u8], fallback_ms: i64) -> Result<usize, HostError> {
        let (code, message) = self.guarded("push_event_with_time", |m| {
            let code = m.push_event_with_time(event, fallback_ms);
            answer(m, code)
        })?;
        count_or_refused(code, || message)
    }

    fn push_events(&mut self, batch: &[u8]) -> Result<BatchOutcome, HostError> {
        let (code, message) = self.guarded("push_events", |m| {
            let code = m.push_events(batch);
            answer(m, code)
        })?;
        batch_outcome(code, || message)
    }

    fn drain_alerts(&mut self) -> Result<Vec<u8>, HostError> {
        self.guarded("drain_alerts", |m| m.drain_alerts().to_vec())
    }

    fn flush(&mut self) -> Result<usize, HostError> {
        let code = self.guarded("flush", |m| m.flush())?;
        count_or_refused(code, String::new)
    }

    fn advance_time(&mut self, now_ms: i64) -> Result<usize, HostError> {
        let code = self.guarded("advance_time", |m| m.advance_time(now_ms))?;
        count_or_refused(code, String::new)
    }

    fn stats(&mut self) -> Result<String, HostError> {
        self.guarded("stats", |m| m.stats().to_string())
    }

    fn snapshot(&mut self) -> Result<Vec<u8>, HostError> {
        self.guarded("snapshot", |m| m.snapshot().to_vec())
    }

    fn restore(&mut self, snapshot: &[u8]) -> Result<(), HostError> {
        let (code, message) = self.guarded("restore", |m| {
            let code = m.restore(snapshot);
            (code, m.last_error().to_string())
        })?;
        count_or_refused(code, || message).map(drop)
    }
}

/// An export's code, with `last_error` when the code is an error.
fn answer(m: &Module, code: i32) -> (i32, String) {
    let message = if code < 0 {
        m.last_error().to_string()
    } else {
        String::new()
    };
    (code, message)
}
