//! A host for the rule module: the wasm module (and the component, see
//! [`WasmComponent`]) under wasmtime, treated as untrusted (memory cap, CPU
//! bound per call, a trap becomes an error and a fresh instance), and
//! rule-core in process, behind one [`Detector`] trait.
//!
//! ```no_run
//! use host_harness::{Detector, HostLimits, WasmModule};
//!
//! let module = WasmModule::from_file("rule_wasm.wasm".as_ref(), HostLimits::default())?;
//! let mut detector = module.instantiate()?;
//! detector.push_event(br#"{"@timestamp": "2024-01-01T00:00:00Z"}"#)?;
//! let alerts = detector.drain_alerts()?;
//! # Ok::<(), host_harness::HostError>(())
//! ```

mod cache;
mod component;
mod detector;
mod error;
mod module_file;
mod native;
mod pack;
mod sandbox;
mod wasm;

pub use cache::default_cache_dir;
pub use component::{ComponentDetector, WasmComponent, COMPONENT_INTERFACE};
pub use detector::{parse_refused, Backend, BatchOutcome, Detector, RefusedLine};
pub use error::{HostError, TrapCause, BACK_PRESSURE};
pub use module_file::{
    build_component, build_module, default_component_path, default_module_path, resolve_component,
    resolve_module, COMPONENT_TARGET, WASM_TARGET,
};
pub use native::NativeDetector;
pub use pack::{CheckReport, Pack, PackFile};
pub use sandbox::{CpuLimit, HostLimits, DEFAULT_DEADLINE, DEFAULT_FUEL};
pub use wasm::{
    workspace_dir, ExportSig, WasmDetector, WasmModule, ABI_EXPORTS, ABI_VERSION, OPTIONAL_EXPORTS,
};

/// Error codes of the ABI beyond rule-core's `PushError::code` (-1 to -10).
pub use rule_wasm::{BAD_POINTER, BATCH_PARTIAL, CONFIG_ERROR, SNAPSHOT_ERROR};
