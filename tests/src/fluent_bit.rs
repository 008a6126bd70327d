//! Real Fluent Bit for the end-to-end tests: Fluent Bit 5.1.1 built once
//! per run from `../shared/fluent-bit/`, the `rule-fluentbit` module built
//! once per run, a run directory holding the example configs as shipped, and
//! Fluent Bit's `json_lines` output read back as raw JSON text (so that
//! alerts can be compared with the native engine's byte for byte).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::workspace;

/// The module's filter functions for `event_format json`: every record on
/// with the alerts it completed, or only the alerts.
pub const PASS_THROUGH: &str = "pass_through";
pub const ALERTS_ONLY: &str = "alerts_only";

/// Cargo's target directory: the build and the runs live there, so that a
/// clean checkout stays clean and `cargo clean` removes them.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
}

/// Builds Fluent Bit 5.1.1 with the wasm filter (`../shared/fluent-bit/
/// build.sh target/fluent-bit`) the first time it is asked for, and returns
/// the binary. `build.sh` keeps an existing build, so only the first run on
/// a machine pays its minutes; `scripts/test.sh` runs it before `cargo
/// test` so that they show as a step of their own. A failed build fails the
/// test: the suite must prove the module in real Fluent Bit, not skip it.
pub fn fluent_bit() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let script = workspace().join("../shared/fluent-bit/build.sh");
        let dir = target_dir().join("fluent-bit");
        let started = Instant::now();
        let status = Command::new("bash")
            .arg(&script)
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            status.success(),
            "{} {} failed ({status}); its logs are in that directory",
            script.display(),
            dir.display()
        );
        let bin = dir.join("bin/fluent-bit");
        assert!(
            bin.is_file(),
            "{} did not give {}",
            script.display(),
            bin.display()
        );
        eprintln!(
            "Fluent Bit: {} ({:.0?} to build or find)",
            bin.display(),
            started.elapsed()
        );
        bin
    })
}

/// Builds `rule-fluentbit` for `wasm32-unknown-unknown` (release) once per
/// test binary and returns the `.wasm` cargo names.
pub fn filter_module() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| build_filter(None))
}

/// The same module with the Linux + Defend pack built in
/// (`RULE_PACK=../shared/detection-rules/linux-defend.txt`), in a target
/// directory of its own so that the two builds do not undo each other.
pub fn filter_module_with_linux_pack() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let list = workspace().join("../shared/detection-rules/linux-defend.txt");
        build_filter(Some(&list))
    })
}

fn build_filter(pack: Option<&Path>) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let args = [
        "build",
        "-p",
        "rule-fluentbit",
        "--target",
        "wasm32-unknown-unknown",
        "--release",
        "--message-format",
        "json-render-diagnostics",
    ];
    let mut command = Command::new(cargo);
    command.current_dir(workspace()).args(args);
    match pack {
        Some(list) => {
            command.env("RULE_PACK", list).env(
                "CARGO_TARGET_DIR",
                workspace().join("target/fluentbit-pack"),
            );
        }
        None => {
            command.env_remove("RULE_PACK");
        }
    }
    let output = command
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo {}: {e}", args.join(" ")));
    assert!(
        output.status.success(),
        "cargo {} failed ({})",
        args.join(" "),
        output.status
    );
    output
        .stdout
        .split(|&b| b == b'\n')
        .filter_map(|line| serde_json::from_slice::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "rule_fluentbit")
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| {
            f.as_str()
                .filter(|f| f.ends_with(".wasm"))
                .map(PathBuf::from)
        })
        .next_back()
        .expect("cargo built rule-fluentbit but named no .wasm")
}

/// The shipped example configs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFormat {
    /// `fluent-bit.yaml`.
    Yaml,
    /// `fluent-bit.conf` with `parsers.conf`.
    Classic,
}

impl ConfigFormat {
    pub fn file(self) -> &'static str {
        match self {
            ConfigFormat::Yaml => "fluent-bit.yaml",
            ConfigFormat::Classic => "fluent-bit.conf",
        }
    }
}

/// The example directory, `examples/fluent-bit/`.
pub fn example_dir() -> PathBuf {
    workspace().join("examples/fluent-bit")
}

/// A fresh directory holding what a user puts beside the configs: the
/// config of `format` as shipped, passed through `edit` (which changes
/// only what a test must, such as `function_name`), `parsers.conf`,
/// `rule_fluentbit.wasm` and `events.ndjson` with `events`. The configs'
/// relative paths then name these files when Fluent Bit runs in this
/// directory, as the example's README says to run it.
pub fn run_dir(
    name: &str,
    format: ConfigFormat,
    edit: impl FnOnce(&str) -> String,
    events: &[u8],
) -> PathBuf {
    let dir = target_dir().join("fluent-bit-runs").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let examples = example_dir();
    let read = |file: &str| {
        std::fs::read_to_string(examples.join(file))
            .unwrap_or_else(|e| panic!("examples/fluent-bit/{file}: {e}"))
    };
    std::fs::write(dir.join("parsers.conf"), read("parsers.conf")).expect("write parsers.conf");
    let config = edit(&read(format.file()));
    std::fs::write(dir.join(format.file()), config).expect("write the config");
    std::fs::copy(filter_module(), dir.join("rule_fluentbit.wasm")).expect("copy the module");
    std::fs::write(dir.join("events.ndjson"), events).expect("write events.ndjson");
    dir
}

/// The config with its one `function_name` line naming `function`.
pub fn switch_function(config: &str, function: &str) -> String {
    edit_setting(config, "function_name", |line| {
        line.replace("pass_through", function)
    })
}

/// The config with its one `wasm_stack_size` line set to half its value
/// (`64K` -> `32K`).
pub fn halve_stack(config: &str) -> String {
    edit_setting(config, "wasm_stack_size", |line| {
        let value = line.split_whitespace().last().expect("a value");
        let kib: u32 = value
            .strip_suffix(['K', 'k'])
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("wasm_stack_size {value}: expected <n>K"));
        line.replace(value, &format!("{}K", kib / 2))
    })
}

/// The config with its one line setting `key` (either format, any case)
/// passed through `change`.
fn edit_setting(config: &str, key: &str, change: impl Fn(&str) -> String) -> String {
    let mut changed = 0;
    let lines: Vec<String> = config
        .lines()
        .map(|line| {
            let lower = line.trim_start().to_ascii_lowercase();
            if lower.starts_with(key) {
                changed += 1;
                change(line)
            } else {
                line.to_string()
            }
        })
        .collect();
    assert_eq!(changed, 1, "one {key} line in\n{config}");
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// A Fluent Bit process running in a run directory: stdout (the records,
/// `json_lines`) and stderr (its log) go to files there.
pub struct FluentBit {
    child: Child,
    dir: PathBuf,
    started: Instant,
}

/// What a run left: the records Fluent Bit printed, as text, and its log.
pub struct Output {
    pub records: Vec<String>,
    pub log: String,
    pub seconds: f64,
}

impl FluentBit {
    /// `fluent-bit -c <config>` in `dir`.
    pub fn start(dir: &Path, format: ConfigFormat) -> FluentBit {
        let out = std::fs::File::create(dir.join("stdout.txt")).expect("stdout.txt");
        let err = std::fs::File::create(dir.join("stderr.txt")).expect("stderr.txt");
        let child = Command::new(fluent_bit())
            .args(["-c", format.file()])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", fluent_bit().display()));
        FluentBit {
            child,
            dir: dir.to_path_buf(),
            started: Instant::now(),
        }
    }

    /// The records printed so far (complete lines that hold JSON objects).
    pub fn records(&self) -> Vec<String> {
        let text = std::fs::read(self.dir.join("stdout.txt")).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        complete
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(str::to_string)
            .collect()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.txt")).unwrap_or_default()
    }

    /// Waits until `n` records came out; panics with the log after
    /// `timeout`, or if Fluent Bit exited.
    pub fn wait_for_records(&mut self, n: usize, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let records = self.records();
            if records.len() >= n {
                return records;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "Fluent Bit exited ({status}) after {} of {n} records; log:\n{}",
                    records.len(),
                    self.log()
                );
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "{} of {n} records after {timeout:?}; log:\n{}",
                    records.len(),
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Appends lines to `events.ndjson`, as a program writing its log does.
    pub fn append(&self, bytes: &[u8]) {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.join("events.ndjson"))
            .expect("open events.ndjson");
        file.write_all(bytes).expect("append to events.ndjson");
    }

    /// SIGTERM, as a service manager stops it: Fluent Bit flushes what it
    /// holds and exits. Returns every record it printed and its log.
    pub fn stop(mut self) -> Output {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {pid}");
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for Fluent Bit") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("Fluent Bit did not stop on SIGTERM; log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let log = self.log();
        assert!(
            status.success(),
            "Fluent Bit exited with {status}; log:\n{log}"
        );
        Output {
            records: self.records(),
            log,
            seconds: self.started.elapsed().as_secs_f64(),
        }
    }
}

/// The members of a compact JSON object, as raw text: `(key, value)` with
/// the key unescaped only as far as JSON keys here need (none are escaped)
/// and the value exactly as written. Panics on text that is not one object.
pub fn raw_members(object: &str) -> Vec<(String, &str)> {
    let b = object.as_bytes();
    assert!(
        b.first() == Some(&b'{') && b.last() == Some(&b'}'),
        "not an object: {}",
        clip(object)
    );
    let mut members = Vec::new();
    let mut i = 1;
    while i < b.len() - 1 {
        let key_end = value_end(b, i);
        let key: String = serde_json::from_str(&object[i..key_end])
            .unwrap_or_else(|e| panic!("a key at {i} ({e}): {}", clip(object)));
        assert_eq!(b[key_end], b':', "a colon after a key: {}", clip(object));
        let start = key_end + 1;
        let end = value_end(b, start);
        members.push((key, &object[start..end]));
        i = end;
        if b[i] == b',' {
            i += 1;
        }
    }
    members
}

/// The elements of a compact JSON array, as raw text.
pub fn raw_elements(array: &str) -> Vec<&str> {
    let b = array.as_bytes();
    assert!(b.first() == Some(&b'[') && b.last() == Some(&b']'));
    let mut out = Vec::new();
    let mut i = 1;
    while i < b.len() - 1 {
        let end = value_end(b, i);
        out.push(&array[i..end]);
        i = end;
        if b[i] == b',' {
            i += 1;
        }
    }
    out
}

/// Where the JSON value starting at `i` ends (compact JSON: no white space
/// between tokens, as Fluent Bit and serde_json write it).
fn value_end(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    let mut in_string = false;
    while i < b.len() {
        let c = b[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => {
                    in_string = false;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            }
        } else {
            match c {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth == 0 => return i,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                b',' | b':' if depth == 0 => return i,
                _ => {}
            }
        }
        i += 1;
    }
    i
}

/// The first 300 bytes of a text, for messages about records that may be
/// megabytes long.
pub fn clip(text: &str) -> String {
    if text.len() <= 300 {
        return text.to_string();
    }
    let mut cut = 300;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}… ({} bytes)", &text[..cut], text.len())
}

#[cfg(test)]
mod unit {
    use super::{halve_stack, raw_elements, raw_members, switch_function};

    #[test]
    fn raw_members_keep_values_as_written() {
        let text = r#"{"date":1.5,"a":{"b":[1,"x\"]}"]},"alerts":[{"k":"}"},{"k":2}],"s":"x,y"}"#;
        let members = raw_members(text);
        let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["date", "a", "alerts", "s"]);
        assert_eq!(members[1].1, r#"{"b":[1,"x\"]}"]}"#);
        assert_eq!(raw_elements(members[2].1), [r#"{"k":"}"}"#, r#"{"k":2}"#]);
        assert_eq!(members[3].1, r#""x,y""#);
        assert!(raw_members("{}").is_empty());
        assert!(raw_elements("[]").is_empty());
    }

    #[test]
    fn switching_the_function_touches_only_function_name() {
        let yaml = "a: pass_through\n      function_name: pass_through\n";
        assert_eq!(
            switch_function(yaml, "alerts_only"),
            "a: pass_through\n      function_name: alerts_only\n"
        );
        assert_eq!(
            halve_stack("    Wasm_Stack_Size  64K\n"),
            "    Wasm_Stack_Size  32K\n"
        );
    }
}
