//! Values as Elasticsearch's EQL scripts see them, and the operators on
//! them: comparison, arithmetic and three-valued logic.
//!
//! A filter that Elasticsearch cannot turn into a Lucene query (a function
//! over a field, arithmetic, a comparison of computed values) runs as a
//! Painless script over the document's doc values. These are its rules
//! (`InternalQlScriptUtils`, `Comparisons`, `Arithmetics` in
//! Elasticsearch's QL module): `null` in, `null` out; numbers compare by
//! value across integer and floating types; values of kinds that do not
//! compare give `null`; integer arithmetic is exact and overflow is an
//! error, as Java's `Math.addExact` makes it.

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use core::cmp::Ordering;
use core::fmt::{self, Write as _};
use core::net::IpAddr;

use crate::syntax::ast::{ArithOp, CompareOp};

/// One value inside a script. Strings borrow from the event where they can.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Long(i64),
    Double(f64),
    Str(Cow<'a, str>),
    Ip(IpAddr),
}

/// Why a script could not compute a value. Elasticsearch fails the whole
/// search on these; a stream cannot, so the event does not match and the
/// engine counts it ([`crate::Stats::script_errors`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptError {
    /// Integer overflow, as `Math.addExact` and friends throw.
    Overflow,
    /// Integer division or modulo by zero.
    DivisionByZero,
    /// An argument of the wrong kind (a string to `add`, ...).
    Type(&'static str),
    /// `number("abc")` and the like.
    NotANumber,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScriptError::Overflow => f.write_str("integer overflow"),
            ScriptError::DivisionByZero => f.write_str("division by zero"),
            ScriptError::Type(what) => write!(f, "{what}"),
            ScriptError::NotANumber => f.write_str("not a number"),
        }
    }
}

pub type ScriptResult<'a> = Result<Value<'a>, ScriptError>;

impl<'a> Value<'a> {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value with its strings owned, for constants kept in a plan.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Long(i) => Value::Long(i),
            Value::Double(d) => Value::Double(d),
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Value::Ip(ip) => Value::Ip(ip),
        }
    }

    /// The same value borrowed, for evaluating a plan's constants.
    pub fn borrowed(&self) -> Value<'_> {
        match self {
            Value::Str(s) => Value::Str(Cow::Borrowed(s.as_ref())),
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(*b),
            Value::Long(i) => Value::Long(*i),
            Value::Double(d) => Value::Double(*d),
            Value::Ip(ip) => Value::Ip(*ip),
        }
    }

    /// Java's `toString` of the value, as `string()` and `concat()` render it.
    pub fn render(&self) -> Option<String> {
        Some(match self {
            Value::Null => return None,
            Value::Bool(b) => b.to_string(),
            Value::Long(i) => i.to_string(),
            Value::Double(d) => java_double(*d),
            Value::Str(s) => String::from(s.as_ref()),
            Value::Ip(ip) => ip.to_string(),
        })
    }

    /// `true` only for a true boolean: a filter's null is false
    /// (`InternalQlScriptUtils.nullSafeFilter`).
    pub fn is_true(&self) -> bool {
        matches!(self, Value::Bool(true))
    }
}

/// Java's `Double.toString` for the values scripts produce: integral values
/// keep one decimal (`4.0`), others print shortest round-trip. (Java switches
/// to scientific notation outside 1e-3..1e7; so do we.)
pub fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".to_string();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    let magnitude = d.abs();
    if magnitude != 0.0 && !(1e-3..1e7).contains(&magnitude) {
        let mut s = alloc::format!("{d:e}");
        // Rust prints `1e7`, Java `1.0E7`.
        if let Some(e) = s.find('e') {
            let (mantissa, exponent) = s.split_at(e);
            let mantissa = if mantissa.contains('.') {
                String::from(mantissa)
            } else {
                alloc::format!("{mantissa}.0")
            };
            s = alloc::format!("{mantissa}E{}", &exponent[1..]);
        }
        return s;
    }
    let mut s = String::new();
    let _ = write!(s, "{d}");
    if !s.contains('.') {
        s.push_str(".0");
    }
    s
}

/// `Comparisons.compare`: `None` when either side is null or the two do
/// not compare (a string with a number, ...).
pub fn compare(left: &Value<'_>, right: &Value<'_>) -> Option<Ordering> {
    match (left, right) {
        (Value::Long(a), Value::Long(b)) => Some(a.cmp(b)),
        (Value::Long(a), Value::Double(b)) => (*a as f64).partial_cmp(b),
        (Value::Double(a), Value::Long(b)) => a.partial_cmp(&(*b as f64)),
        (Value::Double(a), Value::Double(b)) => Some(java_compare_doubles(*a, *b)),
        // Java's String.compareTo orders by UTF-16 code unit.
        (Value::Str(a), Value::Str(b)) => Some(a.encode_utf16().cmp(b.encode_utf16())),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Ip(a), Value::Ip(b)) => Some(a.cmp(b)),
        // Doc values of an `ip` field are their text; a literal is a string.
        (Value::Ip(a), Value::Str(b)) => Some(a.to_string().encode_utf16().cmp(b.encode_utf16())),
        (Value::Str(a), Value::Ip(b)) => Some(a.encode_utf16().cmp(b.to_string().encode_utf16())),
        _ => None,
    }
}

/// `Double.compare`: NaN above everything, so the order is total.
fn java_compare_doubles(a: f64, b: f64) -> Ordering {
    a.partial_cmp(&b)
        .unwrap_or_else(|| a.is_nan().cmp(&b.is_nan()))
}

/// A comparison operator on two values: null when either is null or they
/// do not compare.
pub fn compare_op<'a>(op: CompareOp, left: &Value<'_>, right: &Value<'_>) -> Value<'a> {
    let Some(ord) = compare(left, right) else {
        return Value::Null;
    };
    Value::Bool(match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::NotEq => ord != Ordering::Equal,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::LtEq => ord != Ordering::Greater,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::GtEq => ord != Ordering::Less,
    })
}

/// `Arithmetics`: integers stay integers (and overflow is an error),
/// anything with a floating operand is a double.
pub fn arithmetic<'a>(op: ArithOp, left: &Value<'_>, right: &Value<'_>) -> ScriptResult<'a> {
    match (left, right) {
        (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
        (Value::Long(a), Value::Long(b)) => {
            let (a, b) = (*a, *b);
            let out = match op {
                ArithOp::Add => a.checked_add(b),
                ArithOp::Sub => a.checked_sub(b),
                ArithOp::Mul => a.checked_mul(b),
                ArithOp::Div | ArithOp::Mod if b == 0 => return Err(ScriptError::DivisionByZero),
                // Java truncates toward zero, as Rust does; MIN / -1 overflows.
                ArithOp::Div => a.checked_div(b),
                ArithOp::Mod => a.checked_rem(b),
            };
            out.map(Value::Long).ok_or(ScriptError::Overflow)
        }
        (Value::Long(_) | Value::Double(_), Value::Long(_) | Value::Double(_)) => {
            let (a, b) = (as_f64(left), as_f64(right));
            Ok(Value::Double(match op {
                ArithOp::Add => a + b,
                ArithOp::Sub => a - b,
                ArithOp::Mul => a * b,
                ArithOp::Div => a / b,
                // Java's `%` on doubles is C's fmod: the sign of the dividend.
                ArithOp::Mod => a % b,
            }))
        }
        _ => Err(ScriptError::Type("arithmetic needs numbers")),
    }
}

fn as_f64(v: &Value<'_>) -> f64 {
    match v {
        Value::Long(i) => *i as f64,
        Value::Double(d) => *d,
        _ => f64::NAN,
    }
}

/// `-x`.
pub fn negate<'a>(v: &Value<'_>) -> ScriptResult<'a> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::Long(i) => i
            .checked_neg()
            .map(Value::Long)
            .ok_or(ScriptError::Overflow),
        Value::Double(d) => Ok(Value::Double(-d)),
        _ => Err(ScriptError::Type("`-` needs a number")),
    }
}

/// Three-valued `and`: false wins over null.
pub fn and<'a>(left: &Value<'_>, right: &Value<'_>) -> Value<'a> {
    match (truth(left), truth(right)) {
        (Some(false), _) | (_, Some(false)) => Value::Bool(false),
        (Some(true), Some(true)) => Value::Bool(true),
        _ => Value::Null,
    }
}

/// Three-valued `or`: true wins over null.
pub fn or<'a>(left: &Value<'_>, right: &Value<'_>) -> Value<'a> {
    match (truth(left), truth(right)) {
        (Some(true), _) | (_, Some(true)) => Value::Bool(true),
        (Some(false), Some(false)) => Value::Bool(false),
        _ => Value::Null,
    }
}

/// Three-valued `not`.
pub fn not<'a>(v: &Value<'_>) -> Value<'a> {
    match truth(v) {
        Some(b) => Value::Bool(!b),
        None => Value::Null,
    }
}

fn truth(v: &Value<'_>) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_render_as_java_does() {
        assert_eq!(java_double(4.0), "4.0");
        assert_eq!(java_double(42.5), "42.5");
        assert_eq!(java_double(0.1), "0.1");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(1.5e-5), "1.5E-5");
    }

    #[test]
    fn integer_arithmetic_is_exact_and_checked() {
        let div = arithmetic(ArithOp::Div, &Value::Long(4), &Value::Long(3));
        assert_eq!(div, Ok(Value::Long(1)));
        let rem = arithmetic(ArithOp::Mod, &Value::Long(-10), &Value::Long(6));
        assert_eq!(rem, Ok(Value::Long(-4)));
        let zero = arithmetic(ArithOp::Div, &Value::Long(1), &Value::Long(0));
        assert_eq!(zero, Err(ScriptError::DivisionByZero));
        let big = arithmetic(ArithOp::Add, &Value::Long(i64::MAX), &Value::Long(1));
        assert_eq!(big, Err(ScriptError::Overflow));
        let mixed = arithmetic(ArithOp::Div, &Value::Long(4), &Value::Double(0.5));
        assert_eq!(mixed, Ok(Value::Double(8.0)));
    }

    #[test]
    fn null_and_incomparable_kinds_give_null() {
        let s = Value::Str("1".into());
        assert_eq!(compare_op(CompareOp::Eq, &s, &Value::Long(1)), Value::Null);
        assert_eq!(
            compare_op(CompareOp::Lt, &Value::Null, &Value::Long(1)),
            Value::Null
        );
        assert_eq!(and(&Value::Null, &Value::Bool(false)), Value::Bool(false));
        assert_eq!(or(&Value::Null, &Value::Bool(false)), Value::Null);
    }
}
