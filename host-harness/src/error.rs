//! What can go wrong when a host drives a detector.

use std::path::PathBuf;

/// Why a module call ended in a trap. Whatever the cause, the instance that
/// trapped is dropped and a fresh one takes its place: its state (pending
/// sequences, undrained alerts) is lost, its configuration is replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapCause {
    /// The call used up its fuel: it ran longer than the CPU bound allows.
    OutOfFuel,
    /// The call passed its wall-clock deadline (epoch interruption).
    Deadline,
    /// The module asked for more memory than the cap and then trapped.
    MemoryLimit,
    /// Any other trap: `unreachable` (a panic inside the module), an
    /// out-of-bounds access, a stack overflow, ...
    Other,
}

impl std::fmt::Display for TrapCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TrapCause::OutOfFuel => "out of fuel (CPU bound per call)",
            TrapCause::Deadline => "deadline passed (CPU bound per call)",
            TrapCause::MemoryLimit => "memory limit reached",
            TrapCause::Other => "trap",
        })
    }
}

/// Every error a [`crate::Detector`] or the module loader returns.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The detector refused one input: `code` is the ABI's (`-1` to `-10`,
    /// `-13`; see `docs/ABI.md`) and `message` the module's `last_error`.
    /// Nothing else happened: the detector's state is as it was.
    #[error("refused ({code}): {message}")]
    Refused { code: i32, message: String },

    /// `configure` refused the configuration (`-12`); the previous rule and
    /// state are kept.
    #[error("{message}")]
    Config { message: String },

    /// The module trapped. The instance was replaced by a fresh one
    /// (`restarted`), or could not be (`restarted == false`, the next call
    /// tries again).
    #[error("module trapped in `{export}`: {cause}: {message}")]
    Trap {
        export: &'static str,
        cause: TrapCause,
        message: String,
        restarted: bool,
    },

    /// The module answered something the ABI does not allow (a pointer
    /// outside its memory, an unknown code, ...). Treated like a trap: the
    /// instance was replaced.
    #[error("module broke the ABI in `{export}`: {message}")]
    Abi {
        export: &'static str,
        message: String,
    },

    /// The module could not give `len` bytes for an input (its `alloc`
    /// returned 0): usually the memory cap.
    #[error("module could not allocate {len} bytes for the input (memory cap {cap} bytes)")]
    Alloc { len: usize, cap: usize },

    /// The in-process engine panicked (native backend); it was replaced.
    #[error("native engine panicked in `{call}`: {message}")]
    Panic { call: &'static str, message: String },

    /// Reading the module file.
    #[error("cannot read module {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    /// Not a valid module for this host (bad bytes, failed validation).
    #[error("cannot compile module: {0}")]
    Compile(String),

    /// The module imports something; this host provides nothing.
    #[error("module imports {0:?}; a rule module must import nothing")]
    Imports(Vec<String>),

    /// An export is missing or has another signature than the ABI's.
    #[error("module export `{name}`: {message}")]
    Export { name: &'static str, message: String },

    /// The module speaks another ABI version.
    #[error("module ABI version {found}; this host speaks {expected}")]
    AbiVersion { found: u32, expected: u32 },

    /// Instantiating the module failed (a trap in its start code, memory
    /// cap below its initial memory, ...).
    #[error("cannot instantiate module: {0}")]
    Instantiate(String),

    /// Building the module with cargo failed.
    #[error("{0}")]
    Build(String),
}

impl HostError {
    /// The ABI code behind this error, when there is one.
    pub fn code(&self) -> Option<i32> {
        match self {
            HostError::Refused { code, .. } => Some(*code),
            HostError::Config { .. } => Some(rule_wasm::CONFIG_ERROR),
            _ => None,
        }
    }

    /// The alert buffer is full: drain, then push the same input again.
    pub fn is_back_pressure(&self) -> bool {
        self.code() == Some(BACK_PRESSURE)
    }

    /// The instance (or native engine) was replaced: state was lost.
    pub fn lost_state(&self) -> bool {
        matches!(
            self,
            HostError::Trap { .. } | HostError::Abi { .. } | HostError::Panic { .. }
        )
    }
}

/// The code of `PushError::BackPressure`.
pub const BACK_PRESSURE: i32 = -10;
