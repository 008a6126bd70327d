//! Shared helpers for the end-to-end tests in `tests/tests/`: the module
//! and the component, each built once per test binary with cargo and
//! compiled once, and a fresh instance (or native engine) per test.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub mod fluent_bit;
pub mod semantics;

use host_harness::{
    build_component, build_module, workspace_dir, ComponentDetector, Detector, HostLimits,
    NativeDetector, WasmComponent, WasmDetector, WasmModule,
};

/// The workspace root.
pub fn workspace() -> PathBuf {
    workspace_dir()
}

/// `tests/fixtures/` in the workspace.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Builds the module (`cargo build -p rule-wasm --target
/// wasm32-unknown-unknown --release`) the first time it is asked for, and
/// returns its path. A failed build fails the test with cargo's reason.
pub fn module_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| match build_module(&workspace()) {
        Ok(path) => path,
        Err(e) => panic!("building the rule module failed: {e}"),
    })
}

/// The module compiled by wasmtime with the default host limits, once.
pub fn module() -> &'static WasmModule {
    static MODULE: OnceLock<WasmModule> = OnceLock::new();
    MODULE.get_or_init(|| {
        WasmModule::from_file(module_path(), HostLimits::default())
            .unwrap_or_else(|e| panic!("loading {}: {e}", module_path().display()))
    })
}

/// The module compiled with other limits (not cached).
pub fn module_with(limits: HostLimits) -> WasmModule {
    WasmModule::from_file(module_path(), limits)
        .unwrap_or_else(|e| panic!("loading {}: {e}", module_path().display()))
}

/// A fresh instance of the module: embedded rule, default limits.
pub fn wasm() -> WasmDetector {
    module()
        .instantiate()
        .unwrap_or_else(|e| panic!("instantiating the module: {e}"))
}

/// rule-core in process, behind the same trait.
pub fn native() -> NativeDetector {
    NativeDetector::new()
}

/// Both backends, boxed, wasm first, for tests that must hold on each.
pub fn both() -> Vec<Box<dyn Detector>> {
    vec![Box::new(wasm()), Box::new(native())]
}

/// Builds the component (`cargo build -p rule-component --target
/// wasm32-wasip2 --release`) the first time it is asked for, and returns
/// its path. A failed build fails the test with cargo's reason.
pub fn component_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| match build_component(&workspace()) {
        Ok(path) => path,
        Err(e) => panic!("building the rule component failed: {e}"),
    })
}

/// The component compiled by wasmtime with the default host limits, once.
pub fn compiled_component() -> &'static WasmComponent {
    static COMPONENT: OnceLock<WasmComponent> = OnceLock::new();
    COMPONENT.get_or_init(|| component_with(HostLimits::default()))
}

/// The component compiled with other limits (not cached).
pub fn component_with(limits: HostLimits) -> WasmComponent {
    WasmComponent::from_file(component_path(), limits)
        .unwrap_or_else(|e| panic!("loading {}: {e}", component_path().display()))
}

/// A fresh instance of the component: embedded rule, default limits.
pub fn component() -> ComponentDetector {
    compiled_component()
        .instantiate()
        .unwrap_or_else(|e| panic!("instantiating the component: {e}"))
}

/// Every backend, boxed: the module, native, the component.
pub fn all_backends() -> Vec<Box<dyn Detector>> {
    vec![Box::new(wasm()), Box::new(native()), Box::new(component())]
}

/// The alerts a detector holds now, one JSON document per element.
pub fn drain_lines(d: &mut dyn Detector) -> Vec<String> {
    let bytes = d.drain_alerts().expect("drain_alerts");
    let text = String::from_utf8(bytes).expect("alerts are UTF-8");
    text.lines().map(str::to_string).collect()
}

/// The `event.id`s of the events an alert holds, in order (`Events` array).
pub fn alert_event_ids(alert: &str) -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_str(alert).unwrap_or_else(|e| panic!("alert is not JSON ({e}): {alert}"));
    let events = v
        .get("Events")
        .and_then(|e| e.as_array())
        .unwrap_or_else(|| panic!("alert has no `Events` array: {alert}"));
    events
        .iter()
        .map(|e| {
            field(e, "event.id")
                .and_then(|id| id.as_str())
                .unwrap_or_else(|| panic!("an event in the alert has no event.id: {e}"))
                .to_string()
        })
        .collect()
}

/// A field by its dotted ECS name, whether the event nests it
/// (`{"event": {"id": ..}}`), spells it flat (`{"event.id": ..}`) or mixes
/// both.
pub fn field<'a>(v: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    let obj = v.as_object()?;
    if let Some(found) = obj.get(name) {
        return Some(found);
    }
    name.match_indices('.').find_map(|(i, _)| {
        obj.get(&name[..i])
            .and_then(|inner| field(inner, &name[i + 1..]))
    })
}

/// A network event that opens a sequence (stage 1) for `entity`.
pub fn network_event(id: &str, entity: &str, ts: &str) -> String {
    serde_json::json!({
        "@timestamp": ts,
        "event": {"id": id, "category": ["network"], "type": ["start"], "action": "connection_attempted"},
        "host": {"id": "host-1", "os": {"type": "linux"}},
        "process": {"entity_id": entity, "executable": "/tmp/implant", "name": "implant"},
        "destination": {"ip": "93.184.216.34", "port": 443},
    })
    .to_string()
}

/// A file creation event that completes a sequence (stage 2) for `entity`.
pub fn file_event(id: &str, entity: &str, ts: &str) -> String {
    serde_json::json!({
        "@timestamp": ts,
        "event": {"id": id, "category": ["file"], "type": ["creation"], "action": "creation"},
        "host": {"id": "host-1", "os": {"type": "linux"}},
        "process": {"entity_id": entity, "executable": "/tmp/implant", "name": "implant"},
        "file": {"name": "payload.sh", "path": "/tmp/payload.sh", "extension": "sh"},
    })
    .to_string()
}

/// `event` with a `message` that makes the record `pad` bytes longer.
pub fn padded(event: String, pad: usize) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&event).expect("JSON");
    v["message"] = serde_json::Value::String("x".repeat(pad));
    v.to_string()
}

#[cfg(test)]
mod unit {
    use super::field;
    use serde_json::json;

    #[test]
    fn field_finds_nested_flat_and_mixed_names() {
        let nested = json!({"event": {"id": "a"}});
        let flat = json!({"event.id": "b"});
        let mixed = json!({"process": {"parent.pid": 7}});
        assert_eq!(field(&nested, "event.id"), Some(&json!("a")));
        assert_eq!(field(&flat, "event.id"), Some(&json!("b")));
        assert_eq!(field(&mixed, "process.parent.pid"), Some(&json!(7)));
        assert_eq!(field(&nested, "event.kind"), None);
    }
}
