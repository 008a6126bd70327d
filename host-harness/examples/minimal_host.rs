//! A minimal host over plain wasmtime: NDJSON events on stdin, alerts on
//! stdout. `cargo run -p host-harness --example minimal_host -- rule_wasm.wasm < events.ndjson`
use std::io::{BufRead, Write};
use std::path::Path;

use wasmtime::{Engine, Instance, Module, Store, TypedFunc};

pub fn run(module: &Path, input: impl BufRead, mut out: impl Write) -> wasmtime::Result<()> {
    let engine = Engine::default();
    let module = Module::from_file(&engine, module)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?; // it imports nothing
    let memory = instance.get_memory(&mut store, "memory").expect("memory");
    let alloc = instance.get_typed_func::<u32, u32>(&mut store, "alloc")?;
    let dealloc = instance.get_typed_func::<(u32, u32), ()>(&mut store, "dealloc")?;
    let push_event = instance.get_typed_func::<(u32, u32), i32>(&mut store, "push_event")?;
    let drain_alerts = instance.get_typed_func::<(), u64>(&mut store, "drain_alerts")?;
    let last_error = instance.get_typed_func::<(), u64>(&mut store, "last_error")?;
    let flush = instance.get_typed_func::<(), i32>(&mut store, "flush")?;

    // Calls an export that answers `ptr << 32 | len`, and copies those bytes
    // out (checked: the module is untrusted).
    let read = |store: &mut Store<()>, export: &TypedFunc<(), u64>| -> wasmtime::Result<Vec<u8>> {
        let packed = export.call(&mut *store, ())?;
        let (ptr, len) = ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize);
        match memory.data(&*store).get(ptr..ptr + len) {
            Some(bytes) => Ok(bytes.to_vec()),
            None => wasmtime::bail!("module returned ({ptr}, {len}), outside its memory"),
        }
    };

    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let len = line.len() as u32;
        let ptr = alloc.call(&mut store, len)?; // the host owns this buffer...
        if ptr == 0 {
            wasmtime::bail!("the module could not allocate {len} bytes");
        }
        memory.write(&mut store, ptr as usize, line.as_bytes())?;
        let code = push_event.call(&mut store, (ptr, len))?;
        dealloc.call(&mut store, (ptr, len))?; // ...and frees it
        if code < 0 {
            let message = read(&mut store, &last_error)?;
            eprintln!("refused ({code}): {}", String::from_utf8_lossy(&message));
        } else if code > 0 {
            out.write_all(&read(&mut store, &drain_alerts)?)?;
        }
    }
    flush.call(&mut store, ())?; // end of stream
    out.write_all(&read(&mut store, &drain_alerts)?)?;
    Ok(())
}

#[allow(dead_code)]
fn main() -> wasmtime::Result<()> {
    let module = std::env::args()
        .nth(1)
        .expect("usage: minimal_host MODULE.wasm < events.ndjson");
    run(
        Path::new(&module),
        std::io::stdin().lock(),
        std::io::stdout().lock(),
    )
}
