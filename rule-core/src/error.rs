//! Errors as types: one for a rule that does not compile, one for an event
//! that cannot be taken. Both carry enough to tell a user what was wrong and
//! where, and both map to stable numeric codes for the wasm ABI.

use alloc::string::String;
use core::fmt;

/// Where in the rule text something is, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// A rule that cannot be loaded: bad metadata, bad EQL, or EQL we refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// Where in the EQL query; `None` for errors in the rule file around it.
    pub position: Option<Position>,
    pub message: String,
}

impl RuleError {
    pub(crate) fn at(position: Position, message: impl Into<String>) -> Self {
        RuleError {
            position: Some(position),
            message: message.into(),
        }
    }

    pub(crate) fn metadata(message: impl Into<String>) -> Self {
        RuleError {
            position: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(f, "rule error at {p}: {}", self.message),
            None => write!(f, "rule error: {}", self.message),
        }
    }
}

impl core::error::Error for RuleError {}

/// Why an event was not taken. The engine's state is unchanged by any of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushError {
    /// Nothing but white space.
    Empty,
    /// Larger than [`crate::Limits::max_event_bytes`].
    TooLarge { len: usize, max: usize },
    /// Not UTF-8; `offset` is the first bad byte.
    InvalidUtf8 { offset: usize },
    /// Not JSON; serde_json's message with its line and column.
    InvalidJson { message: String },
    /// JSON, but not an object.
    NotAnObject,
    /// A field the rule reads holds a value its type cannot take (an object
    /// where a keyword is expected, a string that is not a number, ...).
    /// Elasticsearch refuses such a document at index time.
    WrongType {
        field: String,
        expected: &'static str,
    },
    /// An `ip` field whose value is not an IP address (SEMANTICS P10).
    MalformedIp { field: String, value: String },
    /// No `@timestamp` and no fallback time from the host.
    MissingTimestamp,
    /// `@timestamp` is neither RFC 3339 nor epoch milliseconds.
    BadTimestamp { value: String },
    /// The alert buffer is full: drain it, then push this event again.
    BackPressure,
}

impl PushError {
    /// The stable code the wasm ABI returns for this error (always < 0).
    pub fn code(&self) -> i32 {
        match self {
            PushError::Empty => -1,
            PushError::TooLarge { .. } => -2,
            PushError::InvalidUtf8 { .. } => -3,
            PushError::InvalidJson { .. } => -4,
            PushError::NotAnObject => -5,
            PushError::WrongType { .. } => -6,
            PushError::MalformedIp { .. } => -7,
            PushError::MissingTimestamp => -8,
            PushError::BadTimestamp { .. } => -9,
            PushError::BackPressure => -10,
        }
    }

    /// A short, stable name for counting errors by kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            PushError::Empty => ErrorKind::Empty,
            PushError::TooLarge { .. } => ErrorKind::TooLarge,
            PushError::InvalidUtf8 { .. } => ErrorKind::InvalidUtf8,
            PushError::InvalidJson { .. } => ErrorKind::InvalidJson,
            PushError::NotAnObject => ErrorKind::NotAnObject,
            PushError::WrongType { .. } => ErrorKind::WrongType,
            PushError::MalformedIp { .. } => ErrorKind::MalformedIp,
            PushError::MissingTimestamp => ErrorKind::MissingTimestamp,
            PushError::BadTimestamp { .. } => ErrorKind::BadTimestamp,
            PushError::BackPressure => ErrorKind::BackPressure,
        }
    }
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::Empty => f.write_str("empty event"),
            PushError::TooLarge { len, max } => {
                write!(
                    f,
                    "event of {len} bytes is larger than the limit of {max} bytes"
                )
            }
            PushError::InvalidUtf8 { offset } => write!(f, "invalid UTF-8 at byte {offset}"),
            PushError::InvalidJson { message } => write!(f, "invalid JSON: {message}"),
            PushError::NotAnObject => f.write_str("event is JSON but not an object"),
            PushError::WrongType { field, expected } => {
                write!(f, "field `{field}` must be {expected}")
            }
            PushError::MalformedIp { field, value } => {
                write!(f, "field `{field}` is not an IP address: {value:?}")
            }
            PushError::MissingTimestamp => f.write_str("event has no `@timestamp`"),
            PushError::BadTimestamp { value } => write!(
                f,
                "`@timestamp` is neither RFC 3339 nor epoch milliseconds: {value:?}"
            ),
            PushError::BackPressure => {
                f.write_str("alert buffer is full: drain alerts, then push the event again")
            }
        }
    }
}

impl core::error::Error for PushError {}

/// Error kinds, for counters. The order is the order of [`ErrorKind::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Empty,
    TooLarge,
    InvalidUtf8,
    InvalidJson,
    NotAnObject,
    WrongType,
    MalformedIp,
    MissingTimestamp,
    BadTimestamp,
    BackPressure,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::Empty,
        ErrorKind::TooLarge,
        ErrorKind::InvalidUtf8,
        ErrorKind::InvalidJson,
        ErrorKind::NotAnObject,
        ErrorKind::WrongType,
        ErrorKind::MalformedIp,
        ErrorKind::MissingTimestamp,
        ErrorKind::BadTimestamp,
        ErrorKind::BackPressure,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Empty => "empty",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::InvalidUtf8 => "invalid_utf8",
            ErrorKind::InvalidJson => "invalid_json",
            ErrorKind::NotAnObject => "not_an_object",
            ErrorKind::WrongType => "wrong_type",
            ErrorKind::MalformedIp => "malformed_ip",
            ErrorKind::MissingTimestamp => "missing_timestamp",
            ErrorKind::BadTimestamp => "bad_timestamp",
            ErrorKind::BackPressure => "back_pressure",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}
