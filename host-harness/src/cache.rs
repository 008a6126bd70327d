//! Compiled modules kept between runs. Cranelift takes about 2 s (two
//! cores) to compile the rule module, longer than the engine takes for
//! 200 000 events, so a command-line host that compiled on every start
//! would spend most of a short run compiling. [`WasmModule::from_file_cached`]
//! and [`WasmComponent::from_file_cached`] keep wasmtime's compiled form
//! in a directory and load it instead when the same bytes come again.
//!
//! An entry is one file, written whole and renamed into place: a magic
//! line, the length of the source, the source's bytes and the compiled
//! bytes. It is used only when its source is byte for byte the module being
//! loaded, so a key collision costs a compilation, never the wrong code;
//! wasmtime itself refuses compiled bytes of another version or another
//! engine configuration (then the module is compiled again).
//!
//! The compiled bytes are native code that runs as this process: whoever
//! can write the directory can run code as its user, as with wasmtime's own
//! cache. The directory is created readable by its owner only, under the
//! user's own cache directory by default.
//!
//! [`WasmModule::from_file_cached`]: crate::WasmModule::from_file_cached
//! [`WasmComponent::from_file_cached`]: crate::WasmComponent::from_file_cached

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;

/// Entries kept; older ones are removed when a new one is written (a few
/// MB each).
const KEEP: usize = 8;

const MAGIC: &[u8] = b"rulehost compiled module 1\n";

/// `$XDG_CACHE_HOME/rulehost`, else `$HOME/.cache/rulehost`; `None` when
/// neither variable is set (then nothing is cached).
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("rulehost"))
}

/// The entry for `source` compiled by `engine`, as `kind` (`module`,
/// `component`): the key hashes all three, so another wasmtime or another
/// CPU bound (fuel, epoch) is another entry.
pub(crate) struct Entry {
    path: PathBuf,
}

impl Entry {
    pub(crate) fn new(dir: &Path, engine: &Engine, kind: &str, source: &[u8]) -> Entry {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        kind.hash(&mut h);
        engine.precompile_compatibility_hash().hash(&mut h);
        source.hash(&mut h);
        Entry {
            path: dir.join(format!("{kind}-{:016x}.bin", h.finish())),
        }
    }

    /// The compiled bytes stored for exactly `source`, if any.
    pub(crate) fn load(&self, source: &[u8]) -> Option<Vec<u8>> {
        let mut bytes = std::fs::read(&self.path).ok()?;
        let rest = bytes.strip_prefix(MAGIC)?;
        let (len, rest) = rest.split_first_chunk::<8>()?;
        let len = usize::try_from(u64::from_le_bytes(*len)).ok()?;
        if rest.get(..len)? != source {
            return None;
        }
        let start = MAGIC.len() + 8 + len;
        Some(bytes.split_off(start))
    }

    /// Stores `compiled` for `source`. Best effort: a cache that cannot be
    /// written only means compiling again next time.
    pub(crate) fn store(&self, source: &[u8], compiled: &[u8]) {
        let Some(dir) = self.path.parent() else {
            return;
        };
        if create_private_dir(dir).is_err() {
            return;
        }
        let mut bytes = Vec::with_capacity(MAGIC.len() + 8 + source.len() + compiled.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(source.len() as u64).to_le_bytes());
        bytes.extend_from_slice(source);
        bytes.extend_from_slice(compiled);
        // Written aside, then renamed: a reader sees a whole entry or none,
        // also when two processes store the same entry at once.
        let tmp = self
            .path
            .with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, &bytes).is_err() || std::fs::rename(&tmp, &self.path).is_err() {
            let _ = std::fs::remove_file(&tmp);
            return;
        }
        prune(dir);
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Removes all but the [`KEEP`] newest entries.
fn prune(dir: &Path) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<(std::time::SystemTime, PathBuf)> = read
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (_, path) in entries.into_iter().skip(KEEP) {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_used_for_its_own_source_only() {
        let dir = std::env::temp_dir().join(format!("rulehost-cache-test-{}", std::process::id()));
        let engine = Engine::default();
        let entry = Entry::new(&dir, &engine, "module", b"source");
        assert_eq!(entry.load(b"source"), None);
        entry.store(b"source", b"compiled");
        assert_eq!(entry.load(b"source").as_deref(), Some(&b"compiled"[..]));
        // The same file read for other bytes (a key collision): not used.
        assert_eq!(entry.load(b"other!"), None);
        assert_eq!(entry.load(b"sourc"), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
