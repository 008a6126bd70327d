//! Why an event does or does not pass each stage: the filter as a tree, each
//! leaf with its outcome (true, false, or its field missing) and the field's
//! values. For rule authors (the playground); the engine's state is not touched.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::Serialize;

use crate::decode::{decode, Decoded};
use crate::engine::{event_text, Engine};
use crate::error::PushError;
use crate::eval;
use crate::pattern::{GlobPart, Pattern};
use crate::plan::{FieldSpec, Filter, Func, Ordering, Scalar, Script, Test, ValueKind, ValueRef};
use crate::value::Value;

/// The verdict of every stage on one event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// Epoch milliseconds of `@timestamp`, if the event has one.
    pub timestamp: Option<i64>,
    pub stages: Vec<StageExplanation>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageExplanation {
    pub stage: usize,
    /// The filter holds.
    pub passes: bool,
    /// The filter holds and every join key field has a value, so the event
    /// takes part in sequences at this stage.
    pub joins: bool,
    pub join_keys: Vec<FieldValues>,
    pub filter: Node,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldValues {
    pub field: String,
    pub values: Vec<serde_json::Value>,
}

/// One node of a stage's filter, with its result on this event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "node", rename_all = "snake_case")]
pub enum Node {
    And {
        result: bool,
        children: Vec<Node>,
    },
    Or {
        result: bool,
        children: Vec<Node>,
    },
    Not {
        result: bool,
        child: alloc::boxed::Box<Node>,
    },
    Const {
        result: bool,
    },
    Leaf {
        result: bool,
        outcome: Outcome,
        test: String,
        field: String,
        values: Vec<serde_json::Value>,
    },
    /// A condition Elasticsearch runs as a script (functions, arithmetic):
    /// true when some combination of its fields' values makes it true.
    Script {
        result: bool,
        test: String,
        fields: Vec<FieldValues>,
    },
}

/// A leaf's outcome: `Missing` when its field has no value (then it is false).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    True,
    False,
    Missing,
}

impl Engine {
    /// Explains how each stage of the (first) rule judges `event`, without
    /// changing any state.
    pub fn explain(&self, event: &[u8]) -> Result<Explanation, PushError> {
        self.explain_rule(0, event)
    }

    /// As [`Engine::explain`], for the pack's rule at `rule` (its place
    /// among [`Engine::rules`]); no stages when there is no such rule.
    pub fn explain_rule(&self, rule: usize, event: &[u8]) -> Result<Explanation, PushError> {
        let text = event_text(event)?;
        let mut decoded = Decoded::default();
        decode(&self.fields, &self.trie, text, &mut decoded)?;
        let Some(rule) = self.rules.get(rule) else {
            return Ok(Explanation {
                timestamp: decoded.timestamp,
                stages: Vec::new(),
            });
        };
        let explainer = Explainer {
            fields: &self.fields,
            kinds: &rule.kinds,
            decoded: &decoded,
            text,
        };
        let stages = rule
            .plan
            .stages
            .iter()
            .enumerate()
            .map(|(i, stage)| {
                let filter = explainer.node(&stage.filter);
                let passes = node_result(&filter);
                let join_keys: Vec<FieldValues> = stage
                    .keys
                    .iter()
                    .filter_map(|k| k.field)
                    .map(|f| FieldValues {
                        field: self.fields[usize::from(f)].path.clone(),
                        values: explainer.values(f),
                    })
                    .collect();
                let joins = passes
                    && stage
                        .keys
                        .iter()
                        .all(|k| k.nullable || k.field.is_some_and(|f| decoded.has_values(f)));
                StageExplanation {
                    stage: i,
                    passes,
                    joins,
                    join_keys,
                    filter,
                }
            })
            .collect();
        Ok(Explanation {
            timestamp: decoded.timestamp,
            stages,
        })
    }
}

fn node_result(node: &Node) -> bool {
    match node {
        Node::And { result, .. }
        | Node::Or { result, .. }
        | Node::Not { result, .. }
        | Node::Const { result }
        | Node::Leaf { result, .. }
        | Node::Script { result, .. } => *result,
    }
}

struct Explainer<'a> {
    fields: &'a [FieldSpec],
    kinds: &'a [ValueKind],
    decoded: &'a Decoded,
    text: &'a str,
}

impl Explainer<'_> {
    fn values(&self, field: u16) -> Vec<serde_json::Value> {
        self.decoded
            .values(self.text, field)
            .map(|v| match v {
                ValueRef::Str(s) => serde_json::Value::String(s.to_string()),
                ValueRef::Ip(ip) => serde_json::Value::String(format!("{ip}")),
                ValueRef::Number(n) => {
                    serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, Into::into)
                }
            })
            .collect()
    }

    fn matches(&self, filter: &Filter) -> bool {
        let mut counts = eval::EvalCounts::default();
        eval::matches(filter, self.decoded, self.text, self.kinds, &mut counts)
    }

    fn describe_script(&self, script: &Script) -> String {
        let names: Vec<&str> = script
            .slots
            .iter()
            .map(|&f| self.fields[usize::from(f)].path.as_str())
            .collect();
        let text = scalar_text(&script.expr, &names);
        if script.negated {
            format!("not ({text})")
        } else {
            text
        }
    }

    fn node(&self, filter: &Filter) -> Node {
        match filter {
            Filter::Const(b) => Node::Const { result: *b },
            Filter::And(all) => {
                let children: Vec<Node> = all.iter().map(|f| self.node(f)).collect();
                Node::And {
                    result: children.iter().all(node_result),
                    children,
                }
            }
            Filter::Or(any) => {
                let children: Vec<Node> = any.iter().map(|f| self.node(f)).collect();
                Node::Or {
                    result: children.iter().any(node_result),
                    children,
                }
            }
            Filter::Not(inner) => {
                let child = self.node(inner);
                Node::Not {
                    result: !node_result(&child),
                    child: alloc::boxed::Box::new(child),
                }
            }
            Filter::Script(script) => Node::Script {
                result: self.matches(filter),
                test: self.describe_script(script),
                fields: script
                    .slots
                    .iter()
                    .map(|&f| FieldValues {
                        field: self.fields[usize::from(f)].path.clone(),
                        values: self.values(f),
                    })
                    .collect(),
            },
            Filter::Leaf(field, test) => {
                let result = self.matches(filter);
                let path = &self.fields[usize::from(*field)].path;
                let missing = !self.decoded.has_values(*field) && !matches!(test, Test::IsNull);
                let outcome = match (missing, result) {
                    (true, _) => Outcome::Missing,
                    (false, true) => Outcome::True,
                    (false, false) => Outcome::False,
                };
                Node::Leaf {
                    result,
                    outcome,
                    test: describe(path, test),
                    field: path.clone(),
                    values: self.values(*field),
                }
            }
        }
    }
}

/// A compiled test, written back as EQL.
fn describe(field: &str, test: &Test) -> String {
    match test {
        Test::IsNull => format!("{field} == null"),
        Test::Strings {
            patterns,
            insensitive,
        } => {
            let exact = patterns.iter().all(|p| matches!(p, Pattern::Exact(_)));
            let list = patterns.iter().map(pattern_text).collect::<Vec<_>>();
            let tilde = if *insensitive { "~" } else { "" };
            match (exact, list.as_slice()) {
                (true, [one]) if !insensitive => format!("{field} == {one}"),
                (true, _) => format!("{field} in{tilde} ({})", list.join(", ")),
                (false, [one]) => format!("{field} like{tilde} {one}"),
                (false, _) => format!("{field} like{tilde} ({})", list.join(", ")),
            }
        }
        Test::Ip(nets) => {
            let list: Vec<String> = nets.iter().map(|n| format!("\"{n}\"")).collect();
            format!("cidrmatch({field}, {})", list.join(", "))
        }
        Test::Number { op, value } => format!("{field} {} {value}", op_text(*op)),
        Test::StringOrder { op, value } | Test::VersionOrder { op, value, .. } => {
            format!("{field} {} {value:?}", op_text(*op))
        }
        Test::Regex(regexps) => {
            let tilde = if regexps.first().is_some_and(|r| r.is_case_insensitive()) {
                "~"
            } else {
                ""
            };
            let list: Vec<String> = regexps
                .iter()
                .map(|r| format!("{:?}", r.as_str()))
                .collect();
            format!("{field} regex{tilde} ({})", list.join(", "))
        }
    }
}

/// A script's expression, written back as EQL.
fn scalar_text(expr: &Scalar, names: &[&str]) -> String {
    let arg = |i: usize, args: &[Scalar]| {
        args.get(i)
            .map_or_else(String::new, |a| scalar_text(a, names))
    };
    let list = |args: &[Scalar]| {
        args.iter()
            .map(|a| scalar_text(a, names))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let tilde = |ci: bool| if ci { "~" } else { "" };
    match expr {
        Scalar::Const(Value::Str(s)) => format!("{s:?}"),
        Scalar::Const(v) => v.render().unwrap_or_else(|| "null".to_string()),
        Scalar::Slot(i) => names
            .get(usize::from(*i))
            .copied()
            .unwrap_or("?")
            .to_string(),
        Scalar::Call(func, args) => match func {
            Func::Arith(op) => format!("({} {} {})", arg(0, args), op.symbol(), arg(1, args)),
            Func::Neg => format!("-{}", arg(0, args)),
            Func::Compare(op) => format!("{} {} {}", arg(0, args), op.symbol(), arg(1, args)),
            Func::And | Func::Or => {
                let op = if matches!(func, Func::And) {
                    " and "
                } else {
                    " or "
                };
                let parts: Vec<String> = args.iter().map(|a| scalar_text(a, names)).collect();
                format!("({})", parts.join(op))
            }
            Func::Not => format!("not {}", arg(0, args)),
            Func::IsNull => format!("{} == null", arg(0, args)),
            Func::IsNotNull => format!("{} != null", arg(0, args)),
            Func::In { insensitive } => format!(
                "{} in{} ({})",
                arg(0, args),
                tilde(*insensitive),
                list(&args[1.min(args.len())..])
            ),
            Func::Like {
                patterns,
                insensitive,
            } => {
                let p: Vec<String> = patterns.iter().map(pattern_text).collect();
                format!(
                    "{} like{} ({})",
                    arg(0, args),
                    tilde(*insensitive),
                    p.join(", ")
                )
            }
            Func::Regex(regexps) => {
                let ci = regexps.first().is_some_and(|r| r.is_case_insensitive());
                let p: Vec<String> = regexps
                    .iter()
                    .map(|r| format!("{:?}", r.as_str()))
                    .collect();
                format!("{} regex{} ({})", arg(0, args), tilde(ci), p.join(", "))
            }
            Func::CidrMatch(nets) => {
                let n: Vec<String> = nets.iter().map(|n| format!("\"{n}\"")).collect();
                format!("cidrMatch({}, {})", arg(0, args), n.join(", "))
            }
            Func::Between { insensitive } => {
                format!("between{}({})", tilde(*insensitive), list(args))
            }
            Func::Concat => format!("concat({})", list(args)),
            Func::EndsWith { insensitive } => {
                format!("endsWith{}({})", tilde(*insensitive), list(args))
            }
            Func::IndexOf { insensitive } => {
                format!("indexOf{}({})", tilde(*insensitive), list(args))
            }
            Func::Length => format!("length({})", list(args)),
            Func::Number => format!("number({})", list(args)),
            Func::StartsWith { insensitive } => {
                format!("startsWith{}({})", tilde(*insensitive), list(args))
            }
            Func::String => format!("string({})", list(args)),
            Func::StringContains { insensitive } => {
                format!("stringContains{}({})", tilde(*insensitive), list(args))
            }
            Func::Substring => format!("substring({})", list(args)),
        },
    }
}

fn op_text(op: Ordering) -> &'static str {
    match op {
        Ordering::Lt => "<",
        Ordering::LtEq => "<=",
        Ordering::Gt => ">",
        Ordering::GtEq => ">=",
        Ordering::Eq => "==",
    }
}

fn pattern_text(p: &Pattern) -> String {
    let body = match p {
        Pattern::Exact(s) => s.clone(),
        Pattern::Prefix(s) => format!("{s}*"),
        Pattern::Suffix(s) => format!("*{s}"),
        Pattern::Contains(s) => format!("*{s}*"),
        Pattern::Glob(parts) => parts
            .iter()
            .map(|part| match part {
                GlobPart::Literal(s) => s.as_str(),
                GlobPart::AnyRun => "*",
                GlobPart::AnyChar => "?",
            })
            .collect(),
    };
    format!("{body:?}")
}
