//! The wasmtime host that calls the Fluent Bit module as Fluent Bit's
//! `filter_wasm` does (`flb_wasm.c`, described at the top of
//! `fluent_bit.rs`): the module built and compiled once, one instance per
//! filter, and what Fluent Bit makes of each reply.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;
use wasmtime::{
    Engine, Instance, Memory, Module, Store, StoreLimits, StoreLimitsBuilder, TypedFunc,
};

/// The Fluent Bit module, built once per test binary (the same build the
/// real-Fluent-Bit tests use).
fn module_path() -> &'static Path {
    tests::fluent_bit::filter_module()
}

pub(crate) fn module_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        std::fs::read(module_path())
            .unwrap_or_else(|e| panic!("reading {}: {e}", module_path().display()))
    })
}

/// The module compiled by wasmtime, once.
pub(crate) fn compiled() -> &'static (Engine, Module) {
    static MODULE: OnceLock<(Engine, Module)> = OnceLock::new();
    MODULE.get_or_init(|| {
        let engine = Engine::default();
        let module = Module::new(&engine, module_bytes())
            .unwrap_or_else(|e| panic!("compiling {}: {e:#}", module_path().display()));
        (engine, module)
    })
}

/// The module with the Linux + Defend pack built in, compiled once.
pub(crate) fn compiled_with_pack() -> &'static (Engine, Module) {
    static MODULE: OnceLock<(Engine, Module)> = OnceLock::new();
    MODULE.get_or_init(|| {
        let path = tests::fluent_bit::filter_module_with_linux_pack();
        let engine = Engine::default();
        let module = Module::from_file(&engine, path)
            .unwrap_or_else(|e| panic!("compiling {}: {e:#}", path.display()));
        (engine, module)
    })
}

/// Why Fluent Bit would drop the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lost {
    /// The function answered `""`.
    Empty,
    /// The function answered a zero pointer.
    Null,
    /// The function trapped.
    Trap(String),
    /// The answer names no C string inside memory.
    BadString(u32),
    /// The answer is not one JSON object.
    NotAnObject(String),
}

/// What Fluent Bit makes of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// One JSON object: the record that goes on, as text.
    Kept(String),
    Dropped(Lost),
}

impl Reply {
    pub(crate) fn kept(&self) -> &str {
        match self {
            Reply::Kept(text) => text,
            Reply::Dropped(why) => panic!("the record was dropped: {why:?}"),
        }
    }
}

/// One `filter_wasm` instance: the module instantiated once, its function
/// chosen by name, as Fluent Bit holds it for a filter's life.
pub(crate) struct FluentBit {
    store: Store<StoreLimits>,
    memory: Memory,
    malloc: TypedFunc<i32, i32>,
    free: TypedFunc<i32, ()>,
    filter: TypedFunc<(i32, i32, i32, i32, i32, i32), i32>,
    stats: TypedFunc<(), i32>,
}

impl FluentBit {
    pub(crate) fn new(function_name: &str) -> FluentBit {
        FluentBit::with_memory_cap(function_name, 1 << 30)
    }

    pub(crate) fn with_memory_cap(function_name: &str, max_memory: usize) -> FluentBit {
        FluentBit::instantiate(compiled(), function_name, max_memory)
    }

    pub(crate) fn instantiate(
        (engine, module): &(Engine, Module),
        function_name: &str,
        max_memory: usize,
    ) -> FluentBit {
        let limits = StoreLimitsBuilder::new().memory_size(max_memory).build();
        let mut store = Store::new(engine, limits);
        store.limiter(|l| l);
        let instance = Instance::new(&mut store, module, &[]).expect("instantiate");
        let memory = instance
            .get_memory(&mut store, "memory")
            .expect("exports memory");
        let malloc = instance
            .get_typed_func(&mut store, "malloc")
            .expect("malloc(i32) -> i32");
        let free = instance
            .get_typed_func(&mut store, "free")
            .expect("free(i32)");
        let filter = instance
            .get_typed_func(&mut store, function_name)
            .unwrap_or_else(|e| panic!("{function_name}: {e}"));
        let stats = instance
            .get_typed_func(&mut store, "stats")
            .expect("stats() -> i32");
        FluentBit {
            store,
            memory,
            malloc,
            free,
            filter,
            stats,
        }
    }

    /// `wasm_runtime_module_dup_data(inst, bytes, len + 1)`: the module's
    /// `malloc`, then the bytes and their NUL; 0 when `malloc` failed.
    pub(crate) fn dup(&mut self, bytes: &[u8]) -> i32 {
        let size = i32::try_from(bytes.len() + 1).expect("a 32-bit length");
        let ptr = self
            .malloc
            .call(&mut self.store, size)
            .expect("malloc traps not");
        if ptr == 0 {
            return 0;
        }
        let mut with_nul = Vec::with_capacity(bytes.len() + 1);
        with_nul.extend_from_slice(bytes);
        with_nul.push(0);
        self.memory
            .write(&mut self.store, ptr as u32 as usize, &with_nul)
            .expect("malloc's block lies in memory");
        ptr
    }

    /// One record through the filter, as Fluent Bit sends it.
    pub(crate) fn call(&mut self, tag: &str, time: (u32, u32), record: &[u8]) -> Reply {
        let tag_ptr = self.dup(tag.as_bytes());
        let record_ptr = self.dup(record);
        self.invoke(tag_ptr, tag.len(), time, record_ptr, record.len())
    }

    /// The call proper, with the pointers given: Fluent Bit passes whatever
    /// `dup` gave, 0 included.
    pub(crate) fn invoke(
        &mut self,
        tag_ptr: i32,
        tag_len: usize,
        time: (u32, u32),
        record_ptr: i32,
        record_len: usize,
    ) -> Reply {
        let args = (
            tag_ptr,
            tag_len as i32,
            time.0 as i32,
            time.1 as i32,
            record_ptr,
            record_len as i32,
        );
        let reply = match self.filter.call(&mut self.store, args) {
            Err(trap) => Reply::Dropped(Lost::Trap(format!("{trap:#}"))),
            Ok(0) => Reply::Dropped(Lost::Null),
            Ok(ptr) => match self.c_string(ptr as u32) {
                None => Reply::Dropped(Lost::BadString(ptr as u32)),
                Some(bytes) => classify(bytes),
            },
        };
        // Fluent Bit frees tag and record after it copied the answer.
        for ptr in [tag_ptr, record_ptr] {
            if ptr != 0 {
                self.free
                    .call(&mut self.store, ptr)
                    .expect("free traps not");
            }
        }
        reply
    }

    /// `wasm_runtime_validate_app_str_addr` + `strdup`: the bytes up to the
    /// NUL, which must come before the end of memory.
    fn c_string(&self, ptr: u32) -> Option<Vec<u8>> {
        let data = self.memory.data(&self.store);
        let tail = data.get(ptr as usize..)?;
        let end = tail.iter().position(|&b| b == 0)?;
        Some(tail[..end].to_vec())
    }

    /// The `stats` export.
    pub(crate) fn stats(&mut self) -> Value {
        let ptr = self.stats.call(&mut self.store, ()).expect("stats");
        let bytes = self.c_string(ptr as u32).expect("stats is a C string");
        serde_json::from_slice(&bytes).expect("stats is JSON")
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.memory.data_size(&self.store)
    }
}

/// What Fluent Bit does with the copied answer: `""` drops the record;
/// `flb_pack_json` must find one JSON object, or the record is dropped.
fn classify(bytes: Vec<u8>) -> Reply {
    if bytes.is_empty() {
        return Reply::Dropped(Lost::Empty);
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(_)) => Reply::Kept(text),
        _ => Reply::Dropped(Lost::NotAnObject(text)),
    }
}

/// Fluent Bit's time for the `i`-th record of a test.
pub(crate) fn time_of(i: usize) -> (u32, u32) {
    (1_800_000_000 + i as u32, 250_000_000)
}

pub(crate) fn ms(time: (u32, u32)) -> i64 {
    i64::from(time.0) * 1000 + i64::from(time.1 / 1_000_000)
}
