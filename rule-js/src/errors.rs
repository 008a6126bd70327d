//! Errors as JavaScript `Error`s: `name`, `code` (the ABI's numbers) and
//! `kind`, messages clipped to [`MAX_MESSAGE_BYTES`].

use js_sys::{Error as JsErrorObject, JsString, Reflect};
use rule_core::PushError;
use wasm_bindgen::prelude::*;

/// Error code for a rule or options that cannot be used (as the ABI's `configure`).
pub const RULE_ERROR: i32 = -12;
/// Error code for a snapshot `restore` refuses (next free code after the ABI's `-13`).
pub const SNAPSHOT_ERROR: i32 = -14;
/// A longer error message is cut (at a character boundary) and ends with `…`.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// An example that could not be built (or that the engine did not
/// confirm): code -12, kind `example`, `stage` (1-based) when one is named.
pub(crate) fn example_error(stage: Option<usize>, message: &str) -> JsValue {
    let reason = match stage {
        Some(s) => format!("stage {s}: {message}"),
        None => message.to_string(),
    };
    let err = js_error(
        &clip(format!("no example for this rule: {reason}")),
        RULE_ERROR,
        "example",
        "RuleError",
    );
    set(&err, "reason", &JsValue::from_str(&clip(reason)));
    if let Some(s) = stage {
        set(&err, "stage", &s.into());
    }
    err
}

pub(crate) fn push_error(e: &PushError) -> JsValue {
    js_error(
        &clip(format!("event refused: {e}")),
        e.code(),
        e.kind().name(),
        "EventError",
    )
}

/// An `Error` with `name`, `code` and `kind` set.
pub(crate) fn js_error(message: &str, code: i32, kind: &str, name: &str) -> JsValue {
    let err = JsErrorObject::new(message);
    err.set_name(name);
    let err: JsValue = err.into();
    set(&err, "code", &code.into());
    set(&err, "kind", &JsValue::from_str(kind));
    if name != "RuleError" {
        set(&err, "reason", &JsValue::from_str(message));
    }
    err
}

/// Sets a property on an object we just created (cannot fail on a plain `Error`).
pub(crate) fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsString::from(key), value);
}

/// Cuts a message to [`MAX_MESSAGE_BYTES`] at a character boundary.
pub(crate) fn clip(mut message: String) -> String {
    if message.len() > MAX_MESSAGE_BYTES {
        let mut end = MAX_MESSAGE_BYTES - '…'.len_utf8();
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_clipped_at_a_boundary() {
        let long = "é".repeat(MAX_MESSAGE_BYTES);
        let cut = clip(long);
        assert!(cut.len() <= MAX_MESSAGE_BYTES);
        assert!(cut.ends_with('…'));
    }
}
