//! The rule module under wasmtime, treated as untrusted code: its memory is
//! capped (`StoreLimits`), each call has a CPU bound (fuel or an epoch
//! deadline), every pointer it returns is checked, and a trap drops the
//! instance for a fresh one instead of taking the host down.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::{
    Engine, ExternType, Instance, Memory, Module, Store, StoreLimitsBuilder, TypedFunc, ValType,
};

use crate::cache::Entry;
use crate::detector::{batch_outcome, count_or_refused, Backend, BatchOutcome, Detector};
use crate::error::HostError;
use crate::sandbox::{
    arm, fuel_burnt, sandbox_engine, ticker, trap_cause, CpuLimit, HostLimits, Limiter, Ticker,
};

/// The ABI version this host speaks.
pub const ABI_VERSION: u32 = rule_wasm::ABI_VERSION;

/// One export's signature, as the module declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSig {
    pub name: String,
    /// `func`, `memory`, `global`, `table`, `tag`.
    pub kind: &'static str,
    /// For a function, `(i32, i32) -> i32` style; empty otherwise.
    pub signature: String,
}

/// The ABI's function exports and their wasm signatures.
pub const ABI_EXPORTS: &[(&str, &str)] = &[
    ("abi_version", "() -> i32"),
    ("alloc", "(i32) -> i32"),
    ("dealloc", "(i32, i32) -> ()"),
    ("configure", "(i32, i32) -> i32"),
    ("push_event", "(i32, i32) -> i32"),
    ("push_event_with_time", "(i32, i32, i64) -> i32"),
    ("push_events", "(i32, i32) -> i32"),
    ("drain_alerts", "() -> i64"),
    ("last_error", "() -> i64"),
    ("flush", "() -> i32"),
    ("advance_time", "(i64) -> i32"),
    ("stats", "() -> i64"),
];

/// Exports added within ABI version 1: a module may lack them, but one that
/// has them must have these signatures.
pub const OPTIONAL_EXPORTS: &[(&str, &str)] =
    &[("snapshot", "() -> i64"), ("restore", "(i32, i32) -> i32")];

fn valtype(t: &ValType) -> String {
    match t {
        ValType::I32 => "i32".into(),
        ValType::I64 => "i64".into(),
        ValType::F32 => "f32".into(),
        ValType::F64 => "f64".into(),
        ValType::V128 => "v128".into(),
        ValType::Ref(r) => format!("{r}"),
    }
}

fn signature(f: &wasmtime::FuncType) -> String {
    let params: Vec<String> = f.params().map(|t| valtype(&t)).collect();
    let results: Vec<String> = f.results().map(|t| valtype(&t)).collect();
    let results = match results.len() {
        0 => "()".to_string(),
        1 => results[0].clone(),
        _ => format!("({})", results.join(", ")),
    };
    format!("({}) -> {}", params.join(", "), results)
}

/// A compiled rule module, ready to be instantiated (cheap to clone).
#[derive(Clone)]
pub struct WasmModule {
    engine: Engine,
    module: Module,
    limits: HostLimits,
    _ticker: Option<Arc<Ticker>>,
}

impl WasmModule {
    /// Compiles the module in `path` (binary `.wasm`, or `.wat` text).
    pub fn from_file(path: &Path, limits: HostLimits) -> Result<WasmModule, HostError> {
        let bytes = std::fs::read(path).map_err(|source| HostError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        WasmModule::from_bytes(&bytes, limits)
    }

    /// As [`WasmModule::from_file`], with the compiled code kept in `dir`
    /// and loaded from there when the same bytes come again (see the
    /// `cache` module: compiling takes seconds, loading milliseconds).
    pub fn from_file_cached(
        path: &Path,
        limits: HostLimits,
        dir: &Path,
    ) -> Result<WasmModule, HostError> {
        let bytes = std::fs::read(path).map_err(|source| HostError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let engine = sandbox_engine(&limits.cpu)?;
        let entry = Entry::new(dir, &engine, "module", &bytes);
        // SAFETY: `load` returns only bytes that `Module::serialize` wrote
        // into this cache for exactly these source bytes; wasmtime checks
        // their version and engine flags and refuses others (then we
        // compile). The cache's trust is its directory's (see `cache`).
        let cached = entry
            .load(&bytes)
            .and_then(|compiled| unsafe { Module::deserialize(&engine, compiled) }.ok());
        let module = match cached {
            Some(module) => module,
            None => {
                let module = compile(&engine, &bytes)?;
                if let Ok(compiled) = module.serialize() {
                    entry.store(&bytes, &compiled);
                }
                module
            }
        };
        WasmModule::new(engine, module, limits)
    }

    /// Compiles a module from its bytes (binary or `.wat` text). A module
    /// that imports anything is refused: this host gives it nothing.
    pub fn from_bytes(bytes: &[u8], limits: HostLimits) -> Result<WasmModule, HostError> {
        let engine = sandbox_engine(&limits.cpu)?;
        let module = compile(&engine, bytes)?;
        WasmModule::new(engine, module, limits)
    }

    fn new(engine: Engine, module: Module, limits: HostLimits) -> Result<WasmModule, HostError> {
        let imports: Vec<String> = module
            .imports()
            .map(|i| format!("{}::{}", i.module(), i.name()))
            .collect();
        if !imports.is_empty() {
            return Err(HostError::Imports(imports));
        }
        let ticker = ticker(&engine, &limits.cpu)?;
        Ok(WasmModule {
            engine,
            module,
            limits,
            _ticker: ticker,
        })
    }

    pub fn limits(&self) -> &HostLimits {
        &self.limits
    }

    /// What the module imports, as `module::name` (empty for a rule module).
    pub fn imports(&self) -> Vec<String> {
        self.module
            .imports()
            .map(|i| format!("{}::{}", i.module(), i.name()))
            .collect()
    }

    /// Everything the module exports, with function signatures.
    pub fn exports(&self) -> Vec<ExportSig> {
        self.module
            .exports()
            .map(|e| {
                let (kind, signature) = match e.ty() {
                    ExternType::Func(f) => ("func", signature(&f)),
                    ExternType::Memory(_) => ("memory", String::new()),
                    ExternType::Global(_) => ("global", String::new()),
                    ExternType::Table(_) => ("table", String::new()),
                    ExternType::Tag(_) => ("tag", String::new()),
                };
                ExportSig {
                    name: e.name().to_string(),
                    kind,
                    signature,
                }
            })
            .collect()
    }

    /// Checks the exports against the ABI (names, signatures, memory).
    pub fn check_abi(&self) -> Result<(), HostError> {
        let exports = self.exports();
        for (name, want) in ABI_EXPORTS {
            match exports.iter().find(|e| e.name == *name) {
                None => {
                    return Err(HostError::Export {
                        name,
                        message: "missing".into(),
                    })
                }
                Some(e) if e.kind != "func" || e.signature != *want => {
                    return Err(HostError::Export {
                        name,
                        message: format!("is {} {}, the ABI says func {want}", e.kind, e.signature),
                    })
                }
                Some(_) => {}
            }
        }
        for (name, want) in OPTIONAL_EXPORTS {
            if let Some(e) = exports.iter().find(|e| e.name == *name) {
                if e.kind != "func" || e.signature != *want {
                    return Err(HostError::Export {
                        name,
                        message: format!("is {} {}, the ABI says func {want}", e.kind, e.signature),
                    });
                }
            }
        }
        if !exports
            .iter()
            .any(|e| e.name == "memory" && e.kind == "memory")
        {
            return Err(HostError::Export {
                name: "memory",
                message: "missing".into(),
            });
        }
        Ok(())
    }

    /// A fresh instance with the embedded rule and default limits.
    pub fn instantiate(&self) -> Result<WasmDetector, HostError> {
        self.check_abi()?;
        let live = Live::new(self)?;
        Ok(WasmDetector {
            module: self.clone(),
            live: Some(live),
            config: None,
            restarts: 0,
        })
    }
}

fn compile(engine: &Engine, bytes: &[u8]) -> Result<Module, HostError> {
    Module::new(engine, bytes).map_err(|e| HostError::Compile(format!("{e:#}")))
}

/// One instance, in its own store, with its exports looked up.
struct Live {
    store: Store<Limiter>,
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    dealloc: TypedFunc<(u32, u32), ()>,
    configure: TypedFunc<(u32, u32), i32>,
    push_event: TypedFunc<(u32, u32), i32>,
    push_event_with_time: TypedFunc<(u32, u32, i64), i32>,
    push_events: TypedFunc<(u32, u32), i32>,
    drain_alerts: TypedFunc<(), u64>,
    last_error: TypedFunc<(), u64>,
    flush: TypedFunc<(), i32>,
    advance_time: TypedFunc<i64, i32>,
    stats: TypedFunc<(), u64>,
    snapshot: Option<TypedFunc<(), u64>>,
    restore: Option<TypedFunc<(u32, u32), i32>>,
    /// The input buffer kept between calls: `(ptr, capacity)`.
    input: Option<(u32, u32)>,
}

/// A call that failed: a trap (in which export), or a host-side error.
enum CallError {
    Trap(&'static str, wasmtime::Error),
    Host(HostError),
}

impl Live {
    fn new(m: &WasmModule) -> Result<Live, HostError> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(m.limits.max_memory_bytes)
            .table_elements(m.limits.max_table_elements)
            .instances(1)
            .memories(1)
            .tables(4)
            .build();
        let mut store = Store::new(&m.engine, Limiter::new(limits));
        store.limiter(|l| l);
        arm(&mut store, &m.limits.cpu, 0);
        let instance = Instance::new(&mut store, &m.module, &[])
            .map_err(|e| HostError::Instantiate(format!("{e:#}")))?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or(HostError::Export {
                name: "memory",
                message: "missing".into(),
            })?;
        macro_rules! func {
            ($name:literal) => {
                instance
                    .get_typed_func(&mut store, $name)
                    .map_err(|e| HostError::Export {
                        name: $name,
                        message: format!("{e:#}"),
                    })?
            };
        }
        let abi_version: TypedFunc<(), u32> = func!("abi_version");
        let mut live = Live {
            memory,
            alloc: func!("alloc"),
            dealloc: func!("dealloc"),
            configure: func!("configure"),
            push_event: func!("push_event"),
            push_event_with_time: func!("push_event_with_time"),
            push_events: func!("push_events"),
            drain_alerts: func!("drain_alerts"),
            last_error: func!("last_error"),
            flush: func!("flush"),
            advance_time: func!("advance_time"),
            stats: func!("stats"),
            // Checked by `check_abi` when present.
            snapshot: instance.get_typed_func(&mut store, "snapshot").ok(),
            restore: instance.get_typed_func(&mut store, "restore").ok(),
            input: None,
            store,
        };
        arm(&mut live.store, &m.limits.cpu, 0);
        let found = abi_version
            .call(&mut live.store, ())
            .map_err(|e| HostError::Instantiate(format!("abi_version: {e:#}")))?;
        if found != ABI_VERSION {
            return Err(HostError::AbiVersion {
                found,
                expected: ABI_VERSION,
            });
        }
        Ok(live)
    }

    /// Copies `input` into the module's memory and calls `f(ptr, len)`
    /// with a budget for that many bytes.
    fn with_input<R>(
        &mut self,
        cpu: &CpuLimit,
        cap: usize,
        export: &'static str,
        input: &[u8],
        f: impl FnOnce(&mut Live, u32, u32) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        let too_big = || {
            CallError::Host(HostError::Alloc {
                len: input.len(),
                cap,
            })
        };
        let len = u32::try_from(input.len()).map_err(|_| too_big())?;
        let reuse = input.len() <= INPUT_BUF;
        let (ptr, size) = match (reuse, self.input) {
            (true, Some(buf)) => buf,
            _ => {
                let size = if reuse { INPUT_BUF as u32 } else { len };
                arm(&mut self.store, cpu, 0);
                let ptr = self
                    .alloc
                    .call(&mut self.store, size)
                    .map_err(|e| CallError::Trap("alloc", e))?;
                if ptr == 0 {
                    return Err(too_big());
                }
                let memory_len = self.memory.data_size(&self.store);
                if (ptr as usize)
                    .checked_add(size as usize)
                    .is_none_or(|end| end > memory_len)
                {
                    return Err(CallError::Host(HostError::Abi {
                        export: "alloc",
                        message: format!(
                            "returned {ptr} for {size} bytes, outside its memory of {memory_len} bytes"
                        ),
                    }));
                }
                if reuse {
                    self.input = Some((ptr, size));
                }
                (ptr, size)
            }
        };
        // Linear memory never shrinks, so the checked buffer stays inside.
        let start = ptr as usize;
        self.memory.data_mut(&mut self.store)[start..start + input.len()].copy_from_slice(input);
        arm(&mut self.store, cpu, input.len());
        let r = f(self, ptr, len).map_err(|e| CallError::Trap(export, e))?;
        if !reuse {
            arm(&mut self.store, cpu, 0);
            self.dealloc
                .call(&mut self.store, (ptr, size))
                .map_err(|e| CallError::Trap("dealloc", e))?;
        }
        Ok(r)
    }

    /// The bytes at `packed` (`ptr << 32 | len`), checked against memory.
    fn read_packed(&self, export: &'static str, packed: u64) -> Result<Vec<u8>, HostError> {
        let (ptr, len) = ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize);
        if len == 0 {
            return Ok(Vec::new());
        }
        let data = self.memory.data(&self.store);
        match ptr.checked_add(len) {
            Some(end) if end <= data.len() => Ok(data[ptr..end].to_vec()),
            _ => Err(HostError::Abi {
                export,
                message: format!(
                    "returned ({ptr}, {len}), outside its memory of {} bytes",
                    data.len()
                ),
            }),
        }
    }
}

/// Smaller inputs reuse one buffer of this size; larger ones get their own,
/// freed after the call.
const INPUT_BUF: usize = 256 << 10;

/// One live instance of the module, replaced by a fresh one after a trap.
pub struct WasmDetector {
    module: WasmModule,
    live: Option<Live>,
    config: Option<Vec<u8>>,
    restarts: u64,
}

impl WasmDetector {
    /// How many times a trap replaced the instance.
    pub fn restarts(&self) -> u64 {
        self.restarts
    }

    /// The module's linear memory size now, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.live
            .as_ref()
            .map(|l| l.memory.data_size(&l.store))
            .unwrap_or(0)
    }

    /// Fuel the instance has burnt so far (about one unit per wasm
    /// instruction executed), when the module runs under a fuel bound.
    /// A trap's fresh instance starts again from 0.
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
        let mut live = Live::new(&self.module)?;
        if let Some(config) = &self.config {
            let limits = &self.module.limits;
            let code = live
                .with_input(
                    &limits.cpu,
                    limits.max_memory_bytes,
                    "configure",
                    config,
                    |l, p, n| l.configure.call(&mut l.store, (p, n)),
                )
                .map_err(|e| match e {
                    CallError::Trap(export, e) => HostError::Instantiate(format!(
                        "replaying the configuration: {export}: {e:#}"
                    )),
                    CallError::Host(e) => e,
                })?;
            if code != 0 {
                return Err(HostError::Instantiate(format!(
                    "the fresh instance refused the configuration in force ({code})"
                )));
            }
        }
        self.live = Some(live);
        Ok(())
    }

    /// After a trap or an ABI breach: drop the instance, try a fresh one.
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

    fn broke_abi(&mut self, error: HostError) -> HostError {
        if error.lost_state() {
            self.restarts += 1;
            let _ = self.restart();
        }
        error
    }

    /// Calls an export that takes no input.
    fn call<R>(
        &mut self,
        export: &'static str,
        f: impl FnOnce(&mut Live) -> wasmtime::Result<R>,
    ) -> Result<R, HostError> {
        let cpu = self.module.limits.cpu;
        let live = self.live()?;
        arm(&mut live.store, &cpu, 0);
        match f(live) {
            Ok(r) => Ok(r),
            Err(e) => Err(self.recover(export, e)),
        }
    }

    /// Copies `input` into the module's memory and calls `f(ptr, len)`.
    fn call_with_input<R>(
        &mut self,
        export: &'static str,
        input: &[u8],
        f: impl FnOnce(&mut Live, u32, u32) -> wasmtime::Result<R>,
    ) -> Result<R, HostError> {
        let cpu = self.module.limits.cpu;
        let cap = self.module.limits.max_memory_bytes;
        let live = self.live()?;
        match live.with_input(&cpu, cap, export, input, f) {
            Ok(r) => Ok(r),
            Err(CallError::Trap(export, e)) => Err(self.recover(export, e)),
            Err(CallError::Host(e)) => Err(self.broke_abi(e)),
        }
    }

    /// `last_error`, as text.
    fn last_error(&mut self) -> Result<String, HostError> {
        let packed = self.call("last_error", |l| l.last_error.call(&mut l.store, ()))?;
        let bytes = self.read("last_error", packed)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn read(&mut self, export: &'static str, packed: u64) -> Result<Vec<u8>, HostError> {
        let live = self.live()?;
        match live.read_packed(export, packed) {
            Ok(bytes) => Ok(bytes),
            Err(e) => Err(self.broke_abi(e)),
        }
    }

    fn message_for(&mut self, code: i32) -> Result<String, HostError> {
        if code < 0 {
            self.last_error()
        } else {
            Ok(String::new())
        }
    }
}

impl Detector for WasmDetector {
    fn backend(&self) -> Backend {
        Backend::Wasm
    }

    fn configure(&mut self, config_json: &[u8]) -> Result<(), HostError> {
        let code = self.call_with_input("configure", config_json, |l, p, n| {
            l.configure.call(&mut l.store, (p, n))
        })?;
        let message = self.message_for(code)?;
        count_or_refused(code, || message)?;
        self.config = Some(config_json.to_vec());
        Ok(())
    }

    fn push_event(&mut self, event: &[u8]) -> Result<usize, HostError> {
        let code = self.call_with_input("push_event", event, |l, p, n| {
            l.push_event.call(&mut l.store, (p, n))
        })?;
        let message = self.message_for(code)?;
        count_or_refused(code, || message)
    }

    fn push_event_with_time(&mut self, event: &[u8], fallback_ms: i64) -> Result<usize, HostError> {
        let code = self.call_with_input("push_event_with_time", event, |l, p, n| {
            l.push_event_with_time
                .call(&mut l.store, (p, n, fallback_ms))
        })?;
        let message = self.message_for(code)?;
        count_or_refused(code, || message)
    }

    fn push_events(&mut self, batch: &[u8]) -> Result<BatchOutcome, HostError> {
        let code = self.call_with_input("push_events", batch, |l, p, n| {
            l.push_events.call(&mut l.store, (p, n))
        })?;
        let message = self.message_for(code)?;
        batch_outcome(code, || message)
    }

    fn drain_alerts(&mut self) -> Result<Vec<u8>, HostError> {
        let packed = self.call("drain_alerts", |l| l.drain_alerts.call(&mut l.store, ()))?;
        self.read("drain_alerts", packed)
    }

    fn flush(&mut self) -> Result<usize, HostError> {
        let code = self.call("flush", |l| l.flush.call(&mut l.store, ()))?;
        let message = self.message_for(code)?;
        count_or_refused(code, || message)
    }

    fn advance_time(&mut self, now_ms: i64) -> Result<usize, HostError> {
        let code = self.call("advance_time", |l| {
            l.advance_time.call(&mut l.store, now_ms)
        })?;
        let message = self.message_for(code)?;
        count_or_refused(code, || message)
    }

    fn snapshot(&mut self) -> Result<Vec<u8>, HostError> {
        let packed = self.call("snapshot", |l| match &l.snapshot {
            Some(f) => f.call(&mut l.store, ()).map(Some),
            None => Ok(None),
        })?;
        match packed {
            Some(packed) => self.read("snapshot", packed),
            None => Err(not_exported("snapshot")),
        }
    }

    fn restore(&mut self, snapshot: &[u8]) -> Result<(), HostError> {
        let code = self.call_with_input("restore", snapshot, |l, p, n| match &l.restore {
            Some(f) => f.call(&mut l.store, (p, n)).map(Some),
            None => Ok(None),
        })?;
        let code = code.ok_or_else(|| not_exported("restore"))?;
        let message = self.message_for(code)?;
        count_or_refused(code, || message).map(drop)
    }

    fn stats(&mut self) -> Result<String, HostError> {
        let packed = self.call("stats", |l| l.stats.call(&mut l.store, ()))?;
        let bytes = self.read("stats", packed)?;
        String::from_utf8(bytes).map_err(|e| {
            self.broke_abi(HostError::Abi {
                export: "stats",
                message: format!("not UTF-8: {e}"),
            })
        })
    }
}

fn not_exported(name: &'static str) -> HostError {
    HostError::Export {
        name,
        message: "not exported by this module (an older build of ABI version 1)".into(),
    }
}

/// Where the workspace is: this crate's parent directory, as built.
pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
