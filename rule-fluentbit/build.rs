//! Fluent Bit hands a wasm filter no configuration, so a pack of rules is
//! built in: `RULE_PACK=<dir or list>` names detection-rules TOML files at
//! build time (a directory, searched recursively, or a text file listing
//! paths relative to it, as `linux-defend.txt` does). Without it the filter
//! runs the embedded rule. Each file is embedded with only what the
//! engine reads of it (the `[rule]` keys an alert or the query needs; not
//! `[metadata]`, `note`, `setup`, ...: a third of the size); it is read and
//! compiled when the filter starts, and a refused one is listed in the
//! filter's stats.

use std::path::{Path, PathBuf};
use std::{env, fs};

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            toml_files(&path, out)?;
        } else if path.extension().is_some_and(|x| x == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

fn pack_files(spec: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    if spec.is_dir() {
        toml_files(spec, &mut files).map_err(|e| format!("{}: {e}", spec.display()))?;
        files.sort();
    } else {
        let list = fs::read_to_string(spec).map_err(|e| format!("{}: {e}", spec.display()))?;
        let base = spec.parent().unwrap_or(Path::new("."));
        files = list
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| base.join(l))
            .collect();
    }
    for file in &files {
        if !file.is_file() {
            return Err(format!(
                "RULE_PACK names {}, which is not a file",
                file.display()
            ));
        }
    }
    Ok(files)
}

/// The `[rule]` keys rule-core reads: `rule-core/rule-keys.txt`, shared
/// with the playground's bundle script.
fn rule_keys() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rule-core/rule-keys.txt");
    println!("cargo:rerun-if-changed={}", path.display());
    match fs::read_to_string(&path) {
        Ok(text) => text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(String::from)
            .collect(),
        Err(e) => {
            println!("cargo:warning={}: {e}", path.display());
            std::process::exit(1);
        }
    }
}

/// The file with only `keys` of its `[rule]`; a file that is not TOML
/// stays whole, so that the filter reports it as the file says.
fn essentials(text: &str, keys: &[String]) -> String {
    let Ok(mut doc) = text.parse::<toml::Table>() else {
        return text.to_string();
    };
    doc.retain(|k, _| k == "rule");
    if let Some(toml::Value::Table(rule)) = doc.get_mut("rule") {
        rule.retain(|k, _| keys.iter().any(|key| key == k));
    }
    toml::to_string(&doc).unwrap_or_else(|_| text.to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=RULE_PACK");
    let files = match env::var_os("RULE_PACK") {
        None => Vec::new(),
        Some(spec) => {
            let spec = PathBuf::from(spec);
            println!("cargo:rerun-if-changed={}", spec.display());
            match pack_files(&spec) {
                Ok(files) => files,
                Err(why) => {
                    println!("cargo:warning=RULE_PACK: {why}");
                    std::process::exit(1);
                }
            }
        }
    };
    let keys = rule_keys();
    let mut code = String::from(
        "/// The pack's TOML files, as `RULE_PACK` named them.\npub const PACK: &[&str] = &[\n",
    );
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let text = match fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) => {
                println!("cargo:warning=RULE_PACK: {}: {e}", file.display());
                std::process::exit(1);
            }
        };
        code.push_str(&format!("    {:?},\n", essentials(&text, &keys)));
    }
    code.push_str("];\n");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("pack.rs");
    if let Err(e) = fs::write(&out, code) {
        println!("cargo:warning=writing {}: {e}", out.display());
        std::process::exit(1);
    }
}
