//! Finding, and if need be building, the module the workspace builds.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::HostError;

/// The target the module is built for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Where `cargo build -p rule-wasm --target wasm32-unknown-unknown --release`
/// puts the module, for the workspace at `workspace` (`CARGO_TARGET_DIR`
/// is honoured).
pub fn default_module_path(workspace: &Path) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| {
            if t.is_absolute() {
                t
            } else {
                workspace.join(t)
            }
        })
        .unwrap_or_else(|| workspace.join("target"));
    target
        .join(WASM_TARGET)
        .join("release")
        .join("rule_wasm.wasm")
}

/// Builds the module with cargo in `workspace` and returns its path, as
/// cargo reports it. Cargo's own messages go to this process's stderr.
pub fn build_module(workspace: &Path) -> Result<PathBuf, HostError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let command = format!(
        "cargo build -p rule-wasm --target {WASM_TARGET} --release (in {})",
        workspace.display()
    );
    let output = Command::new(&cargo)
        .current_dir(workspace)
        .args([
            "build",
            "-p",
            "rule-wasm",
            "--target",
            WASM_TARGET,
            "--release",
        ])
        .args(["--message-format", "json-render-diagnostics"])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| HostError::Build(format!("cannot run {command}: {e}")))?;
    if !output.status.success() {
        return Err(HostError::Build(format!(
            "{command} failed ({}); is the target installed? \
             `rustup target add {WASM_TARGET}`; or pass --module FILE",
            output.status
        )));
    }
    artifact_from_messages(&output.stdout)
        .ok_or_else(|| HostError::Build(format!("{command} succeeded but named no rule_wasm.wasm")))
}

/// The `.wasm` file in cargo's JSON messages for the `rule-wasm` package.
fn artifact_from_messages(stdout: &[u8]) -> Option<PathBuf> {
    let mut found = None;
    for line in stdout.split(|&b| b == b'\n') {
        let Ok(msg) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" || msg["target"]["name"] != "rule_wasm" {
            continue;
        }
        if let Some(files) = msg["filenames"].as_array() {
            for f in files.iter().filter_map(|f| f.as_str()) {
                if f.ends_with(".wasm") {
                    found = Some(PathBuf::from(f));
                }
            }
        }
    }
    found
}

/// The module to load: `explicit` if given; else the workspace's build
/// output, built first when it is missing.
pub fn resolve_module(explicit: Option<&Path>, workspace: &Path) -> Result<PathBuf, HostError> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    let path = default_module_path(workspace);
    if path.is_file() {
        return Ok(path);
    }
    if !workspace.join("Cargo.toml").is_file() {
        return Err(HostError::Build(format!(
            "no module at {} and no workspace at {} to build one; pass --module FILE",
            path.display(),
            workspace.display()
        )));
    }
    build_module(workspace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_is_found_in_messages() {
        let out = br#"{"reason":"compiler-artifact","target":{"name":"rule_core"},"filenames":["/t/librule_core.rlib"]}
{"reason":"compiler-artifact","target":{"name":"rule_wasm"},"filenames":["/t/rule_wasm.wasm","/t/librule_wasm.rlib"]}
{"reason":"build-finished","success":true}
"#;
        assert_eq!(
            artifact_from_messages(out),
            Some(PathBuf::from("/t/rule_wasm.wasm"))
        );
        assert_eq!(artifact_from_messages(b"not json\n"), None);
    }

    #[test]
    fn default_path_is_under_target() {
        let p = default_module_path(Path::new("/ws"));
        assert!(p.ends_with("wasm32-unknown-unknown/release/rule_wasm.wasm"));
    }
}
