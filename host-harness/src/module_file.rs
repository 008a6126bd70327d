//! Finding, and if need be building, the module and the component the
//! workspace builds.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::HostError;

/// The target the module is built for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The target the component (`rule-component`) is built for.
pub const COMPONENT_TARGET: &str = "wasm32-wasip2";

/// What cargo builds: a package, for a target, into a `.wasm` file.
struct Artifact {
    /// What it is, in messages.
    what: &'static str,
    package: &'static str,
    /// The crate's lib target name, as cargo's messages spell it.
    lib: &'static str,
    target: &'static str,
    /// What to pass instead when this one can't be had.
    flag: &'static str,
}

const MODULE: Artifact = Artifact {
    what: "module",
    package: "rule-wasm",
    lib: "rule_wasm",
    target: WASM_TARGET,
    flag: "--module FILE",
};

const COMPONENT: Artifact = Artifact {
    what: "component",
    package: "rule-component",
    lib: "rule_component",
    target: COMPONENT_TARGET,
    flag: "--component FILE",
};

/// Where `cargo build -p rule-wasm --target wasm32-unknown-unknown --release`
/// puts the module, for the workspace at `workspace` (`CARGO_TARGET_DIR`
/// is honoured).
pub fn default_module_path(workspace: &Path) -> PathBuf {
    default_path(workspace, &MODULE)
}

/// Where `cargo build -p rule-component --target wasm32-wasip2 --release`
/// puts the component, for the workspace at `workspace`.
pub fn default_component_path(workspace: &Path) -> PathBuf {
    default_path(workspace, &COMPONENT)
}

fn default_path(workspace: &Path, artifact: &Artifact) -> PathBuf {
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
        .join(artifact.target)
        .join("release")
        .join(format!("{}.wasm", artifact.lib))
}

/// Builds the module with cargo in `workspace` and returns its path, as
/// cargo reports it. Cargo's own messages go to this process's stderr.
pub fn build_module(workspace: &Path) -> Result<PathBuf, HostError> {
    build(workspace, &MODULE)
}

/// Builds the component with cargo in `workspace` (`cargo build -p
/// rule-component --target wasm32-wasip2 --release`) and returns its path.
pub fn build_component(workspace: &Path) -> Result<PathBuf, HostError> {
    build(workspace, &COMPONENT)
}

fn build(workspace: &Path, artifact: &Artifact) -> Result<PathBuf, HostError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let Artifact {
        package,
        lib,
        target,
        flag,
        ..
    } = artifact;
    let command = format!(
        "cargo build -p {package} --target {target} --release (in {})",
        workspace.display()
    );
    let output = Command::new(&cargo)
        .current_dir(workspace)
        .args(["build", "-p", package, "--target", target, "--release"])
        .args(["--message-format", "json-render-diagnostics"])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| HostError::Build(format!("cannot run {command}: {e}")))?;
    if !output.status.success() {
        return Err(HostError::Build(format!(
            "{command} failed ({}); is the target installed? \
             `rustup target add {target}`; or pass {flag}",
            output.status
        )));
    }
    artifact_from_messages(&output.stdout, lib)
        .ok_or_else(|| HostError::Build(format!("{command} succeeded but named no {lib}.wasm")))
}

/// The `.wasm` file in cargo's JSON messages for the lib target `lib`.
fn artifact_from_messages(stdout: &[u8], lib: &str) -> Option<PathBuf> {
    let mut found = None;
    for line in stdout.split(|&b| b == b'\n') {
        let Ok(msg) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" || msg["target"]["name"] != lib {
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
    resolve(explicit, workspace, &MODULE)
}

/// The component to load: `explicit` if given; else the workspace's build
/// output, built first when it is missing.
pub fn resolve_component(explicit: Option<&Path>, workspace: &Path) -> Result<PathBuf, HostError> {
    resolve(explicit, workspace, &COMPONENT)
}

fn resolve(
    explicit: Option<&Path>,
    workspace: &Path,
    artifact: &Artifact,
) -> Result<PathBuf, HostError> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    let path = default_path(workspace, artifact);
    if path.is_file() {
        return Ok(path);
    }
    if !workspace.join("Cargo.toml").is_file() {
        return Err(HostError::Build(format!(
            "no {} at {} and no workspace at {} to build one; pass {}",
            artifact.what,
            path.display(),
            workspace.display(),
            artifact.flag
        )));
    }
    build(workspace, artifact)
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
            artifact_from_messages(out, "rule_wasm"),
            Some(PathBuf::from("/t/rule_wasm.wasm"))
        );
        assert_eq!(artifact_from_messages(out, "rule_component"), None);
        assert_eq!(artifact_from_messages(b"not json\n", "rule_wasm"), None);
    }

    #[test]
    fn default_path_is_under_target() {
        let p = default_module_path(Path::new("/ws"));
        assert!(p.ends_with("wasm32-unknown-unknown/release/rule_wasm.wasm"));
        let p = default_component_path(Path::new("/ws"));
        assert!(p.ends_with("wasm32-wasip2/release/rule_component.wasm"));
    }
}
