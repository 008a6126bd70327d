//! Rule packs from disk, for `rulehost run --rules` and `rulehost rules
//! check`: detection-rules TOML files found in directories (recursively),
//! named in list files (`linux-defend.txt`: one path per line, relative to
//! the list), or given one by one; an `.eql` file is a bare query. Rules of
//! another language (KQL, ES|QL, machine learning) are set aside, not
//! refused; a file that is not a rule is refused with its reason, and the
//! others load.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rule_core::{Engine, Limits, Position, RefusedRule, Rule, RuleError};

use crate::HostError;

/// One file of a pack and what it held.
#[derive(Debug, Clone)]
pub struct PackFile {
    pub path: PathBuf,
    pub text: String,
    /// The rule, or why the file is not one.
    pub rule: Result<Rule, RuleError>,
}

/// The files of a pack, in the order found (each directory sorted).
#[derive(Debug, Clone, Default)]
pub struct Pack {
    pub files: Vec<PackFile>,
    /// TOML rules of another language, left out.
    pub other_language: Vec<PathBuf>,
}

impl Pack {
    /// Reads every source: a directory, a `.txt` list, a `.toml` or `.eql`
    /// file. An unreadable source is an error; an unreadable rule is not.
    pub fn load(sources: &[PathBuf]) -> Result<Pack, HostError> {
        let mut pack = Pack::default();
        for source in sources {
            let mut paths = Vec::new();
            collect(source, &mut paths)?;
            for path in paths {
                let text = std::fs::read_to_string(&path).map_err(|e| HostError::Io {
                    path: path.clone(),
                    source: e,
                })?;
                let rule = if path.extension().is_some_and(|x| x == "eql") {
                    let name = path.display().to_string();
                    let meta = rule_core::RuleMeta::named(name.clone(), name);
                    Ok(Rule::from_eql(text.trim(), Some(meta)))
                } else {
                    match Rule::from_toml(&text) {
                        Err(e) if e.message.contains("only \"eql\" runs here") => {
                            pack.other_language.push(path);
                            continue;
                        }
                        other => other,
                    }
                };
                pack.files.push(PackFile { path, text, rule });
            }
        }
        Ok(pack)
    }

    /// The pack's rules, each unreadable file kept in its place.
    pub fn entries(&self) -> Vec<Result<Rule, RefusedRule>> {
        self.files
            .iter()
            .enumerate()
            .map(|(index, f)| {
                f.rule.clone().map_err(|error| RefusedRule {
                    index,
                    id: String::new(),
                    name: f.path.display().to_string(),
                    error,
                })
            })
            .collect()
    }

    /// The pack as `configure`'s `rules`: every rule file as `toml` (an
    /// `.eql` file as `eql`, named by its file), so that the module reads
    /// them exactly as rule-core does here.
    pub fn rules_json(&self) -> serde_json::Value {
        self.files
            .iter()
            .map(|f| {
                if f.path.extension().is_some_and(|x| x == "eql") {
                    let name = f.path.display().to_string();
                    serde_json::json!({
                        "eql": f.text.trim(),
                        "meta": { "id": name, "name": name, "severity": "low", "risk_score": 21 },
                    })
                } else {
                    serde_json::json!({ "toml": f.text })
                }
            })
            .collect()
    }

    /// Compiles every rule as one pack would and reports each refusal with
    /// its file, line and column, then a summary by folder.
    pub fn check(&self) -> CheckReport {
        let (engine, refused) = Engine::with_pack(self.entries(), Limits::default());
        let mut report = CheckReport {
            compiled: engine.rules().count(),
            refused: refused.len(),
            other_language: self.other_language.len(),
            ..CheckReport::default()
        };
        let mut refused_at = vec![false; self.files.len()];
        for r in &refused {
            let Some(file) = self.files.get(r.index) else {
                continue;
            };
            refused_at[r.index] = true;
            let at = r.error.position.and_then(|p| match &file.rule {
                Ok(rule) => rule.position_in_file(&file.text, p),
                Err(_) => Some(p),
            });
            let mut line = file.path.display().to_string();
            if let Some(Position { line: l, column }) = at {
                let _ = write!(line, ":{l}:{column}");
            }
            let _ = write!(line, ": {}", r.error.message);
            report.lines.push(line);
        }
        for (file, refused) in self.files.iter().zip(refused_at) {
            let folder = file
                .path
                .parent()
                .and_then(Path::file_name)
                .map_or_else(|| ".".to_string(), |f| f.to_string_lossy().into_owned());
            let counts = report.by_folder.entry(folder).or_default();
            if refused {
                counts.1 += 1;
            } else {
                counts.0 += 1;
            }
        }
        report
    }
}

/// What `rulehost rules check` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// One line per refused rule: `file:line:column: reason`.
    pub lines: Vec<String>,
    pub compiled: usize,
    pub refused: usize,
    pub other_language: usize,
    /// Per folder (a rule's parent directory, `linux`, `windows`, ...):
    /// compiled and refused.
    pub by_folder: BTreeMap<String, (usize, usize)>,
}

impl CheckReport {
    /// The refusals, then the summary, as text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(
            out,
            "{} rules compiled, {} refused ({} of another language left out)",
            self.compiled, self.refused, self.other_language
        );
        for (folder, (compiled, refused)) in &self.by_folder {
            let _ = writeln!(
                out,
                "  {folder:<24} {compiled:>5} compiled {refused:>5} refused"
            );
        }
        out
    }
}

/// The rule files a source names.
fn collect(source: &Path, out: &mut Vec<PathBuf>) -> Result<(), HostError> {
    let io = |e: std::io::Error| HostError::Io {
        path: source.to_path_buf(),
        source: e,
    };
    if source.is_dir() {
        let mut found = Vec::new();
        walk(source, &mut found).map_err(io)?;
        found.sort();
        out.extend(found);
    } else if source.extension().is_some_and(|x| x == "txt") {
        let list = std::fs::read_to_string(source).map_err(io)?;
        let base = source.parent().unwrap_or(Path::new("."));
        out.extend(
            list.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(|l| base.join(l)),
        );
    } else {
        out.push(source.to_path_buf());
    }
    Ok(())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|x| x == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rulehost-pack-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("linux")).unwrap();
        dir
    }

    #[test]
    fn check_names_file_line_and_column_and_sums_by_folder() {
        let dir = temp_dir("check");
        std::fs::write(dir.join("linux/good.toml"), rule_core::EMBEDDED_RULE_TOML).unwrap();
        let bad = rule_core::EMBEDDED_RULE_TOML.replace(
            "sequence by host.id, process.entity_id with maxspan=5s",
            "sequence by host.id, process.entity_id with maxspan=5s oops",
        );
        std::fs::write(dir.join("linux/bad.toml"), &bad).unwrap();
        std::fs::write(
            dir.join("kql.toml"),
            "[rule]\nrule_id = \"k\"\nname = \"k\"\nlanguage = \"kuery\"\nquery = \"x\"\n",
        )
        .unwrap();
        std::fs::write(dir.join("broken.toml"), "[rule\n").unwrap();
        let pack = Pack::load(std::slice::from_ref(&dir)).unwrap();
        assert_eq!(pack.files.len(), 3);
        assert_eq!(pack.other_language.len(), 1);
        let report = pack.check();
        assert_eq!((report.compiled, report.refused), (1, 2));
        let bad_line = report
            .lines
            .iter()
            .find(|l| l.contains("bad.toml"))
            .unwrap();
        // The query's first line is line 17 of the file.
        let query_line = bad.lines().position(|l| l.contains("oops")).unwrap() + 1;
        assert!(
            bad_line.contains(&format!("bad.toml:{query_line}:")),
            "{bad_line}"
        );
        assert!(report
            .lines
            .iter()
            .any(|l| l.contains("broken.toml") && l.contains("rule TOML")));
        assert_eq!(report.by_folder.get("linux"), Some(&(1, 1)));
        assert!(report.render().contains("1 rules compiled, 2 refused"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
