//! Rule text, EQL or detection-rules TOML, compiled into an engine; a rule
//! error points at its line and column in the text the caller gave.

use rule_core::{Engine, Limits, Rule, RuleError};
use wasm_bindgen::prelude::*;

use crate::errors::{clip, js_error, set, RULE_ERROR};
use crate::options::Params;

/// Whether `text` is a detection-rules TOML file rather than EQL: its first
/// line that is not blank or a `#` comment opens a `[section]`, or a line
/// is exactly `[rule]`. (An EQL query never starts with `[`.)
pub fn looks_like_toml(text: &str) -> bool {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    first.is_some_and(|l| l.starts_with('['))
        || text
            .lines()
            .any(|l| l.trim() == "[rule]" || l.trim() == "[metadata]")
}

/// Compiles `text`; a rule error is already mapped to a JS error.
pub(crate) fn build(
    text: &str,
    limits: Limits,
    params: &Params,
) -> Result<Result<Engine, RuleError>, JsValue> {
    if !looks_like_toml(text) {
        let mut rule = Rule::from_eql(text, None);
        params.apply(&mut rule);
        return Ok(Engine::new(rule, limits));
    }
    let mut rule = match Rule::from_toml(text) {
        Ok(rule) => rule,
        Err(e) => return Err(rule_error(&e, toml_error_position(text))),
    };
    params.apply(&mut rule);
    // Where the query sits in the file, to point at the file's lines.
    let origin = text
        .find(rule.query.as_str())
        .map(|at| position_of(text, at));
    match Engine::new(rule, limits) {
        Ok(engine) => Ok(Ok(engine)),
        Err(e) => {
            let in_file = match (e.position, origin) {
                (Some(p), Some((line, column))) if p.line == 1 => {
                    Some((line, column.saturating_add(p.column.saturating_sub(1))))
                }
                (Some(p), Some((line, _))) => {
                    Some((line.saturating_add(p.line.saturating_sub(1)), p.column))
                }
                _ => None,
            };
            Err(rule_error(&e, in_file))
        }
    }
}

/// The 1-based line and column (in characters) of byte offset `at`.
pub(crate) fn position_of(text: &str, at: usize) -> (u32, u32) {
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).unwrap_or("").chars().count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// The position of a TOML syntax error, when the TOML parser can tell.
fn toml_error_position(text: &str) -> Option<(u32, u32)> {
    let err = toml::from_str::<toml::Table>(text).err()?;
    err.span().map(|span| position_of(text, span.start))
}

/// A rule error as a JS error. `in_text` is the position in the text the
/// caller gave, when it differs from the position in the query.
pub(crate) fn rule_error(e: &RuleError, in_text: Option<(u32, u32)>) -> JsValue {
    let at = in_text.or(e.position.map(|p| (p.line, p.column)));
    let message = match at {
        Some((line, column)) => {
            format!("rule error at line {line}, column {column}: {}", e.message)
        }
        None => format!("rule error: {}", e.message),
    };
    let err = js_error(&clip(message), RULE_ERROR, "rule", "RuleError");
    set(&err, "reason", &JsValue::from_str(&clip(e.message.clone())));
    if let Some((line, column)) = at {
        set(&err, "line", &line.into());
        set(&err, "column", &column.into());
    }
    if let Some(p) = e.position {
        set(&err, "queryLine", &p.line.into());
        set(&err, "queryColumn", &p.column.into());
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use rule_core::EMBEDDED_RULE_TOML;

    #[test]
    fn toml_is_told_from_eql() {
        assert!(looks_like_toml(EMBEDDED_RULE_TOML));
        assert!(looks_like_toml("# a comment\n\n[rule]\nquery = 'x'"));
        assert!(looks_like_toml("name = 1\n[rule]\n"));
        assert!(!looks_like_toml(&Rule::embedded().query));
        assert!(!looks_like_toml("network where true"));
        assert!(!looks_like_toml(""));
    }

    #[test]
    fn positions_count_characters() {
        assert_eq!(position_of("ab\ncé x", 7), (2, 4));
        assert_eq!(position_of("abc", 0), (1, 1));
    }
}
