//! A minimal host for the component over plain wasmtime: NDJSON events on
//! stdin, alerts on stdout.
//! `cargo run -p host-harness --example component_host -- rule_component.wasm < events.ndjson`
use std::io::{BufRead, Write};
use std::path::Path;

use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store};

// The WIT, relative to the crate that compiles this file.
wasmtime::component::bindgen!({ path: "../rule-component/wit", world: "rule-engine" });

pub fn run(file: &Path, input: impl BufRead, mut out: impl Write) -> wasmtime::Result<()> {
    let engine = Engine::default();
    let component = Component::from_file(&engine, file)?;
    let mut linker = Linker::new(&engine);
    linker.define_unknown_imports_as_traps(&component)?; // no WASI: the engine calls none of it
    let mut store = Store::new(&engine, ());
    let rule = RuleEngine::instantiate(&mut store, &component, &linker)?;
    let api = rule.rule_detector_detection().detector();
    let detector = api
        .call_create(&mut store, None)?
        .expect("the embedded rule");
    for line in input.lines() {
        if let Err(e) = api.call_push_event(&mut store, detector, &line?)? {
            eprintln!("refused: {e:?}"); // typed: InvalidJson("..."), MalformedIp(..), ...
        }
        for alert in api.call_drain_alerts(&mut store, detector)? {
            writeln!(out, "{alert}")?;
        }
    }
    api.call_flush(&mut store, detector)?; // end of stream
    for alert in api.call_drain_alerts(&mut store, detector)? {
        writeln!(out, "{alert}")?;
    }
    Ok(())
}

#[allow(dead_code)]
fn main() -> wasmtime::Result<()> {
    let file = std::env::args()
        .nth(1)
        .expect("usage: component_host COMPONENT.wasm < events.ndjson");
    run(
        Path::new(&file),
        std::io::stdin().lock(),
        std::io::stdout().lock(),
    )
}
