//! Profiling aid for the wasm path: the core module under wasmtime with a
//! perf map of the compiled code (/tmp/perf-PID.map), so `perf report`
//! names the module's functions. Not a benchmark (`rulehost bench` is).
//! For instructions per event, `rulehost bench` has a column (wasm fuel,
//! and callgrind's count of the native loop with `--instructions`); this
//! example is for what those counts leave out: the x86 instructions of the
//! compiled code and of the host around it, under callgrind
//! (`--toggle-collect='*measured*'`), and where perf puts the time.
//!
//! ```sh
//! cargo build --profile bench-host -p host-harness --example wasm_profile
//! perf record -e cpu-clock -g -- target/bench-host/examples/wasm_profile \
//!     target/wasm32-unknown-unknown/release/rule_wasm.wasm events.ndjson batch 3 fuel
//! perf report --no-children
//! ```
//!
//! Arguments: MODULE FILE [event|batch] [REPEAT] [fuel|fuel-once|epoch|none].
//! `fuel` refuels before every call, as the host does; `fuel-once` fills
//! the tank once per run, to see what the refills cost (nothing measurable:
//! the cost of fuel is the counting compiled into the code).

use std::time::Instant;

use wasmtime::{Config, Engine, Instance, Memory, Module, ProfilingStrategy, Store, TypedFunc};

struct Api<'a> {
    memory: Memory,
    push_event: TypedFunc<(u32, u32), i32>,
    push_events: TypedFunc<(u32, u32), i32>,
    drain: TypedFunc<(), u64>,
    buf: usize,
    cpu: &'a str,
}

fn refuel(store: &mut Store<()>, cpu: &str) -> wasmtime::Result<()> {
    match cpu {
        "fuel" => store.set_fuel(u64::MAX / 2)?,
        // Filled when the store is made (`main`), never again.
        "fuel-once" => {}
        "epoch" => store.set_epoch_deadline(u64::MAX / 2),
        _ => {}
    }
    Ok(())
}

/// The measured loop, apart so that callgrind can count it alone
/// (`--toggle-collect='*measured*'`). Returns bytes of alerts drained.
#[inline(never)]
fn measured(
    store: &mut Store<()>,
    api: &Api<'_>,
    data: &[u8],
    lines: &[&[u8]],
    batched: bool,
) -> wasmtime::Result<usize> {
    let Api {
        memory,
        push_event,
        push_events,
        drain,
        buf,
        cpu,
    } = api;
    let buf = *buf;
    let mut alerts = 0usize;
    if batched {
        let mut start = 0;
        while start < data.len() {
            let mut end = (start + (1 << 20)).min(data.len());
            while end < data.len() && data[end - 1] != b'\n' {
                end += 1;
            }
            let batch = &data[start..end];
            memory.data_mut(&mut *store)[buf..buf + batch.len()].copy_from_slice(batch);
            refuel(store, cpu)?;
            let n = push_events.call(&mut *store, (buf as u32, batch.len() as u32))?;
            if n > 0 {
                alerts += (drain.call(&mut *store, ())? & 0xffff_ffff) as usize;
            }
            start = end;
        }
    } else {
        for line in lines {
            memory.data_mut(&mut *store)[buf..buf + line.len()].copy_from_slice(line);
            refuel(store, cpu)?;
            let n = push_event.call(&mut *store, (buf as u32, line.len() as u32))?;
            if n > 0 {
                alerts += (drain.call(&mut *store, ())? & 0xffff_ffff) as usize;
            }
        }
    }
    Ok(alerts)
}

fn main() -> wasmtime::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (module_path, file) = match (args.get(1), args.get(2)) {
        (Some(m), Some(f)) => (m, f),
        _ => {
            eprintln!(
                "usage: wasm_profile MODULE FILE [event|batch] [REPEAT] [fuel|fuel-once|epoch|none]"
            );
            std::process::exit(2);
        }
    };
    let batched = args.get(3).is_some_and(|m| m == "batch");
    let repeat: usize = args.get(4).and_then(|r| r.parse().ok()).unwrap_or(3);
    let cpu = args.get(5).map(String::as_str).unwrap_or("fuel");

    let mut config = Config::new();
    config.profiler(ProfilingStrategy::PerfMap);
    match cpu {
        "fuel" | "fuel-once" => {
            config.consume_fuel(true);
        }
        "epoch" => {
            config.epoch_interruption(true);
        }
        _ => {}
    }
    let engine = Engine::new(&config)?;
    let module = Module::from_file(&engine, module_path)?;
    let data = std::fs::read(file)?;
    let lines: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();

    for _ in 0..repeat {
        let mut store = Store::new(&engine, ());
        refuel(&mut store, cpu)?;
        if cpu == "fuel-once" {
            store.set_fuel(u64::MAX / 2)?;
        }
        let instance = Instance::new(&mut store, &module, &[])?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .expect("exports memory");
        let alloc: TypedFunc<u32, u32> = instance.get_typed_func(&mut store, "alloc")?;
        let push_event: TypedFunc<(u32, u32), i32> =
            instance.get_typed_func(&mut store, "push_event")?;
        let push_events: TypedFunc<(u32, u32), i32> =
            instance.get_typed_func(&mut store, "push_events")?;
        let drain: TypedFunc<(), u64> = instance.get_typed_func(&mut store, "drain_alerts")?;
        let buf_len = 4 << 20;
        let buf = alloc.call(&mut store, buf_len)? as usize;
        let started = Instant::now();
        let alerts = measured(
            &mut store,
            &Api {
                memory,
                push_event,
                push_events,
                drain,
                buf,
                cpu,
            },
            &data,
            &lines,
            batched,
        )?;
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "{} events in {secs:.3} s: {:.0} ns/event, {:.0} MB/s ({alerts} bytes of alerts)",
            lines.len(),
            secs * 1e9 / lines.len() as f64,
            data.len() as f64 / secs / 1e6
        );
    }
    Ok(())
}
