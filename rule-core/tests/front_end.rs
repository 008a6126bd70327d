//! The EQL front end: what it accepts, and that everything else is refused
//! with its line and column, never ignored.

use rule_core::{Engine, Limits, Position, Rule};

fn compile(eql: &str) -> Result<Engine, rule_core::RuleError> {
    Engine::new(Rule::from_eql(eql, None), Limits::default())
}

fn refused_at(eql: &str, line: u32, column: u32, says: &str) {
    let err = compile(eql)
        .err()
        .unwrap_or_else(|| panic!("{eql:?} should be refused"));
    assert_eq!(
        err.position,
        Some(Position { line, column }),
        "{eql:?}: {err}"
    );
    assert!(
        err.message.contains(says),
        "{eql:?}: {err} should say {says:?}"
    );
}

#[test]
fn the_embedded_rule_compiles() {
    let engine = Engine::with_embedded_rule();
    assert_eq!(
        engine.rule().unwrap().meta.id,
        "01c1e353-9d86-4344-abdf-523ab80c6f08"
    );
    assert_eq!(engine.rule().unwrap().meta.risk_score, 21);
    assert_eq!(engine.rule().unwrap().meta.severity, "low");
    assert_eq!(engine.rule().unwrap().meta.threat.len(), 2);
}

#[test]
fn accepts_the_constructs_of_two_stage_sequence_rules() {
    for eql in [
        r#"sequence by host.id with maxspan=1m [process where event.type == "start"] by process.entity_id [network where true] by process.parent.entity_id"#,
        r#"sequence with maxspan=500ms by user.name [any where process.name : "ssh*"] [file where file.size >= 100 and file.size < 2e6]"#,
        r#"sequence [process where process.name in~ ("BASH", "sh") and not process.args_count <= 1] [file where file.path like~ "/ETC/*"]"#,
        r#"sequence by host.id [process where startsWith~(process.name, "PY") or endsWith(process.name, "sh") or stringContains(process.name, "ell")] [file where wildcard(file.path, "/tmp/*", "/var/*") and wildcard~(file.name, "*.SH")]"#,
        r#"sequence by host.id with maxspan=2h [network where destination.ip != null and cidrMatch(destination.ip, "1.0.0.0/8")] [file where file.name != "x" and process.pid > 1]"#,
        "sequence by host.id with maxspan=1d [process where process.name == \"\"\"raw\\string\"\"\"] [file where file.name == \"tab\\there \\u{41}\"]",
        "process where process.name == \"sshd\" // a comment\n and /* another */ process.pid == 1",
        r#"sequence by host.id [file where event.action : ("creation", "rename")] [file where process.name not in ("a", "b")] [process where true]"#,
        r#"process where length(process.name) > 3 and process.pid + 1 > 3 | head 5"#,
        r#"sequence by process.pid [process where true] [file where true] until [process where event.type == "end"]"#,
        r#"sequence by host.id with maxspan=1m ![process where true] [process where true] ![file where true] with runs=2"#,
        r#"sample by host.id, ?user.id [process where true] by process.pid [network where true] by process.pid"#,
        r#"process where substring(process.name, 0, 2) : "ba" and between~(process.command_line, "-C ", " ") != """#,
        r#"process where process.name regex~ "ba[a-z]+" and not process.executable regex ("/usr/.*", "/bin/.*")"#,
        r#"process where ?process.nosuch == null and `process.name` in ("a", concat("b", "c")) | tail 2"#,
        r#"process where startsWith~(process.executable, process.name) and indexOf(process.name, ".") >= 0"#,
        r#"process where number(process.pid_text, 16) % 2 == 1 and -process.pid < 0 and string(process.pid) : "1*""#,
        r#"file where cidrMatch(source.ip, "10.0.0.0/8") and add(file.size, 1) > 2 and divide(file.size, 2) == modulo(3, 2)"#,
    ] {
        compile(eql).unwrap_or_else(|e| panic!("{eql}\n{e}"));
    }
}

#[test]
fn refuses_what_it_does_not_run_with_line_and_column() {
    refused_at(
        "sequence [process where true] [file where true] until ![process where true]",
        1,
        55,
        "until",
    );
    refused_at("process where true | sort x", 1, 22, "unknown pipe");
    refused_at("process where true | head -1", 1, 27, "whole number");
    refused_at(
        "sequence\n  [process where process.name regex \"a[\"]\n  [file where true]",
        2,
        40,
        "regular expression",
    );
    refused_at("join [process where true] [file where true]", 1, 1, "join");
    refused_at(
        "sample by host.id [process where true] ![file where true]",
        1,
        40,
        "no missing-event stages",
    );
    refused_at(
        "process where length(process.pid) > 3 and process.pid > 1",
        1,
        22,
        "must be a string",
    );
    refused_at("process where \"a\" + 1 > 3", 1, 15, "needs a number");
    refused_at(
        "process where process.name == process.executable",
        1,
        31,
        "comparisons against fields",
    );
    refused_at(
        "process where nosuch(process.name)",
        1,
        15,
        "unknown function",
    );
    refused_at(
        "process where length~(process.name) > 1",
        1,
        15,
        "no case-insensitive",
    );
    refused_at(
        "process where substring(process.name) == \"a\"",
        1,
        15,
        "2 to 3 arguments",
    );
    refused_at("process where 1 / 0 == 1", 1, 17, "division by zero");
    refused_at(
        "sequence with runs=2 [process where true] [file where true]",
        1,
        15,
        "runs",
    );
    refused_at(
        "sequence [process where true] with runs=0 [file where true]",
        1,
        41,
        "runs must be",
    );
    refused_at(
        "sequence with maxspan=1s ![process where true] ![file where true]",
        1,
        1,
        "not a missing event",
    );
    refused_at(
        "sequence [process where true] ![file where true]",
        1,
        31,
        "needs `with maxspan=`",
    );
    refused_at("process where process.name = \"x\"", 1, 28, "==");
    refused_at("process where process.name == 'x'", 1, 31, "double quotes");
    refused_at("process where process.name == \"x", 1, 31, "unterminated");
    refused_at("sequence [process where true]", 1, 30, "two or more");
    refused_at(
        "sequence with maxspan=5y [a where true] [b where true]",
        1,
        24,
        "unit",
    );
    refused_at(
        "network where cidrmatch(destination.ip, \"10.0.0.0/33\")",
        1,
        41,
        "CIDR",
    );
    refused_at(
        "network where destination.ip == \"not-an-ip\" and cidrmatch(destination.ip, \"::1\")",
        1,
        30,
        "IP address",
    );
    refused_at("process where process.name", 1, 15, "alone");
    refused_at("process where process.name == \"\\q\"", 1, 32, "escape");
    refused_at(
        "sequence by host.id [a where true] by x [b where true]",
        1,
        41,
        "join keys",
    );
}

#[test]
fn rule_toml_errors_are_reported() {
    let err = Rule::from_toml("[rule]\nname = 1").unwrap_err();
    assert!(err.position.is_none());
    assert!(err.to_string().contains("rule TOML"), "{err}");
    let kql = rule_core::EMBEDDED_RULE_TOML.replace("language = \"eql\"", "language = \"kuery\"");
    assert!(Rule::from_toml(&kql)
        .unwrap_err()
        .to_string()
        .contains("only \"eql\""));
}

/// Rules built to hurt: each is refused with its place, without exhausting
/// the stack (left-leaning arithmetic chains count as nesting) and in
/// linear time (columns are counted once on a 100 000-token line).
#[test]
fn hostile_rules_are_refused_not_obeyed() {
    let repeat = |s: &str, n: usize| s.repeat(n);
    let cases = [
        (format!("process where pid == 1{}", repeat(" + 1", 100_000)), "nests deeper"),
        (format!("process where pid * {}2 > 1", repeat("2 * ", 100_000)), "nests deeper"),
        (format!("process where {}1 == 1", repeat("-", 100_000)), "nests deeper"),
        (format!("process where {}x == 1", repeat("not ", 100_000)), "nests deeper"),
        (
            format!("process where {}x{} > 1", repeat("length(", 50_000), repeat(")", 50_000)),
            "nests deeper",
        ),
        (
            format!("process where x in ({})", vec!["\"a\""; 20_000].join(",")),
            "at most 10000 items",
        ),
        (format!("sequence {}", repeat("[process where true] ", 300)), "at most 256 stages"),
        (
            "sequence [a where true] with runs=100 [b where true] with runs=100 [c where true] with runs=100"
                .to_string(),
            "runs included",
        ),
        (
            format!("process where concat({}) == \"a\"", vec!["x"; 1000].join(",")),
            "too many field reads",
        ),
    ];
    for (eql, says) in cases {
        let err = compile(&eql)
            .err()
            .unwrap_or_else(|| panic!("{} accepted", &eql[..60]));
        assert!(err.position.is_some(), "{err}");
        assert!(err.message.contains(says), "{}: {err}", &eql[..60]);
    }
    // A long flat chain of `and` inside a value stays one level deep.
    let chain = format!(
        "process where ({}) == true",
        vec!["true"; 50_000].join(" and ")
    );
    compile(&chain).unwrap_or_else(|e| panic!("{e}"));
}
