//! Patterns from Lucene's `TestRegExp` and Elasticsearch's regexp-syntax
//! reference, each with strings that must and must not match; refusals with
//! their offsets; hostile patterns.

use alloc::format;
use alloc::string::String;

use super::{Regexp, RegexpError, RegexpErrorKind, MAX_DEPTH, MAX_PATTERN_LEN, MAX_REPEAT};

/// (pattern, case-insensitive, must match, must not match)
const TABLE: &[(&str, bool, &[&str], &[&str])] = &[
    // Elasticsearch's regexp-syntax reference.
    (
        "abcde",
        false,
        &["abcde"],
        &["abcd", "xabcde", "abcdef", ""],
    ),
    ("ab...", false, &["abcde", "ab\n\t."], &["abcd", "abcdef"]),
    ("abc?", false, &["ab", "abc"], &["a", "abcc"]),
    ("ab+", false, &["ab", "abb", "abbb"], &["a", "aba"]),
    ("ab*", false, &["a", "ab", "abbb"], &["b", "aab"]),
    ("a{2}", false, &["aa"], &["a", "aaa"]),
    ("a{2,4}", false, &["aa", "aaa", "aaaa"], &["a", "aaaaa"]),
    ("a{2,}", false, &["aa", "aaaaaaa"], &["a", ""]),
    ("abc|xyz", false, &["abc", "xyz"], &["abcxyz", "ab"]),
    ("abc(def)?", false, &["abc", "abcdef"], &["abcd", "abcde"]),
    ("[abc]", false, &["a", "b", "c"], &["d", "ab", ""]),
    ("[-abc]", false, &["-", "a"], &["d"]),
    ("[abc\\-]", false, &["-", "c"], &["\\", "d"]),
    ("[^abc\\-]", false, &["d", "é", "\n"], &["a", "-", "dd", ""]),
    ("[a-c]", false, &["a", "b", "c"], &["d", "A"]),
    ("[^a-c]", false, &["d", "A"], &["a", "c"]),
    (
        "foo<1-100>",
        false,
        &["foo1", "foo99", "foo100", "foo007", "foo0100"],
        &["foo0", "foo101", "foo", "foo1a"],
    ),
    // Different written widths: any leading zeros (Lucene's makeDecimalInterval).
    (
        "foo<01-100>",
        false,
        &["foo01", "foo99", "foo100", "foo1", "foo001"],
        &["foo101", "foo00", "foo"],
    ),
    (
        "<08-12>",
        false,
        &["08", "09", "10", "12"],
        &["8", "07", "13", "008"],
    ),
    ("<10-1>", false, &["1", "10", "05"], &["11", "0"]),
    ("<0-0>", false, &["0"], &["", "1", "00"]),
    ("<0-10>", false, &["0", "000", "010"], &["", "11"]),
    (
        "<007-123>",
        false,
        &["007", "099", "123"],
        &["7", "006", "124", "0007"],
    ),
    (
        "<0-2147483647>",
        false,
        &["0", "2147483647", "002147483647"],
        &["2147483648", "x"],
    ),
    ("#|abc", false, &["abc"], &["", "ab", "#"]),
    ("#", false, &[], &["", "#"]),
    ("@", false, &["", "anything", "é\n"], &[]),
    ("ab@", false, &["ab", "abc"], &["a"]),
    // Lucene's quoting, escapes and predefined classes.
    ("\"a.b*\"", false, &["a.b*"], &["axb", "a.bbb"]),
    ("\"\"", false, &[""], &["\"\""]),
    ("()", false, &[""], &["()"]),
    ("", false, &[""], &["a"]),
    ("a\\.b", false, &["a.b"], &["axb"]),
    ("\\\\", false, &["\\"], &["\\\\"]),
    ("\\d+", false, &["0", "123"], &["", "1a", "١"]),
    ("\\D", false, &["a", "é"], &["5"]),
    (
        "\\s",
        false,
        &[" ", "\t", "\n", "\r"],
        &["\u{b}", "\u{a0}", "a"],
    ),
    ("\\S+", false, &["ab", "\u{a0}"], &[" ", "a b"]),
    ("\\w+", false, &["a_Z9"], &["é", "a-b"]),
    ("\\W", false, &["-", "é"], &["a", "_"]),
    ("[\\d.]+", false, &["1.2"], &["a"]),
    ("[\\.]", false, &["."], &["a"]),
    // Reserved characters where no operator can start are literals.
    ("*a", false, &["*a"], &["a"]),
    ("a||b", false, &["a", "|b"], &["b"]),
    ("{a}", false, &["{a}"], &["a"]),
    ("a]", false, &["a]"], &["a"]),
    ("[]]", false, &["]"], &["a"]),
    ("^a$", false, &["^a$"], &["a"]),
    ("&a", false, &["&a"], &["a"]),
    // Repetitions stack: `.*?` is (.*)?, `a{1,2}{2}` is aa..aaaa.
    (
        ".*?net1[ ]+localgroup.*?",
        false,
        &["net1 localgroup", "cmd /c net1  localgroup admins"],
        &["net localgroup"],
    ),
    ("a{1,2}{2}", false, &["aa", "aaa", "aaaa"], &["a", "aaaaa"]),
    ("[^y]*{1,2}", false, &["", "abc"], &["y"]),
    (
        "a(b+|c+)d",
        false,
        &["abd", "abbbd", "accd"],
        &["abcd", "ad"],
    ),
    ("(a|b)*c", false, &["c", "ababc"], &["abab", "cc"]),
    // Case-insensitive (`regex~`): characters and strings fold, class ranges
    // and predefined classes do not.
    (
        ".*?net1[ ]+localgroup.*?",
        true,
        &["NET1 LocalGroup"],
        &["NET localgroup"],
    ),
    ("abc", true, &["abc", "ABC", "aBc"], &["abd"]),
    ("\"Hello\"", true, &["hello", "HELLO"], &["hell"]),
    ("[abc]", true, &["A", "b"], &["d"]),
    ("[^a]", true, &["b"], &["a", "A"]),
    ("[a-c]", true, &["b"], &["B"]),
    ("\\w", true, &["A"], &["é"]),
    (
        "straße",
        true,
        &["STRAßE", "Straße"],
        &["STRASSE", "strasse"],
    ),
    ("é", true, &["É"], &["e"]),
    ("k", true, &["K", "\u{212a}"], &["x"]),
    ("abc", false, &["abc"], &["ABC"]),
    // Complement and intersection (ES's reference, then corner cases).
    ("a~bc", false, &["adc", "aec", "ac", "abbc"], &["abc"]),
    (
        "@&~(abc.+)",
        false,
        &["", "abc", "xabc", "ab"],
        &["abcd", "abc\n"],
    ),
    (
        "aaa.+&.+bbb",
        false,
        &["aaabbb", "aaaxbbb"],
        &["aaab", "aabbb"],
    ),
    ("~(é)~(é)", false, &["", "ab", "éé", "e"], &["é"]),
    ("(~a)*", false, &["", "b", "aa", "ab", "aaa"], &["a"]),
    ("~~a", false, &["a"], &["", "b"]),
    ("~#", false, &["", "x", "é\n"], &[]),
    ("~@", false, &[], &["", "x"]),
    ("#&a", false, &[], &["a", ""]),
    ("[a-z]+&~(.*x.*)", false, &["abc"], &["axc", "ABC", ""]),
    ("~a", true, &["b", "", "aa"], &["a", "A"]),
    ("x(~(ab)|c)&x.", false, &["xc", "xa", "xb"], &["xab", "x"]),
    (
        "(a&a){2}<1-3>",
        false,
        &["aa1", "aa3"],
        &["a1", "aa4", "aa03"],
    ),
];

#[test]
fn lucene_and_elasticsearch_examples() {
    for &(pattern, insensitive, matching, not_matching) in TABLE {
        let re = Regexp::new(pattern, insensitive)
            .unwrap_or_else(|e| panic!("{pattern:?} (ci={insensitive}): {e}"));
        for text in matching {
            assert!(
                re.is_match(text),
                "{pattern:?} (ci={insensitive}) must match {text:?}"
            );
        }
        for text in not_matching {
            assert!(
                !re.is_match(text),
                "{pattern:?} (ci={insensitive}) must not match {text:?}"
            );
        }
    }
}

fn refusal(pattern: &str) -> RegexpError {
    match Regexp::new(pattern, false) {
        Ok(_) => panic!("{pattern:?} compiled"),
        Err(e) => e,
    }
}

#[test]
fn refusals_have_offsets() {
    use RegexpErrorKind::*;
    let cases: &[(&str, usize, RegexpErrorKind)] = &[
        ("(ab", 3, Expected(')')),
        ("ab)", 2, TrailingInput),
        ("a|", 2, UnexpectedEnd),
        ("(a|)", 4, Expected(')')),
        ("[ab", 3, Expected(']')),
        ("[]", 2, Expected(']')),
        ("[z-a]", 1, ClassRangeOutOfOrder { from: 'z', to: 'a' }),
        ("[a-]", 1, ClassRangeOutOfOrder { from: 'a', to: ']' }),
        ("a{", 2, IntegerExpected),
        ("a{,3}", 2, IntegerExpected),
        ("a{2", 3, Expected('}')),
        ("a{3,1}", 6, RepeatOutOfOrder { min: 3, max: 1 }),
        ("\"abc", 4, Expected('"')),
        ("x\\n", 1, InvalidEscape('n')),
        ("[\\t]", 1, InvalidEscape('t')),
        ("\\", 1, UnexpectedEnd),
        ("ab<1-", 5, Expected('>')),
        ("a<-1-2>", 1, IntervalSyntax),
        ("a<1-2-3>", 1, IntervalSyntax),
        ("a<1->", 1, IntervalSyntax),
        ("a<1-2147483648>", 1, IntervalSyntax),
        ("é<name>", 2, UnknownAutomaton(String::from("name"))),
        ("x~(.*a.{20})", 3, TooComplex),
        ("x((a|b)*a(a|b){17}&(a|b)*b(a|b){17})", 3, TooComplex),
        ("a{1001}", 2, RepeatTooLarge { max: MAX_REPEAT }),
        ("a{99999999999}", 2, RepeatTooLarge { max: MAX_REPEAT }),
    ];
    for (pattern, offset, kind) in cases {
        let e = refusal(pattern);
        assert_eq!((e.offset, &e.kind), (*offset, kind), "{pattern:?}: {e}");
        assert!(format!("{e}").contains(&format!("byte {offset}")));
    }
}

#[test]
fn elasticsearch_limit_on_pattern_length_counts_utf16_units() {
    let at_limit = "a".repeat(MAX_PATTERN_LEN);
    assert!(Regexp::new(&at_limit, false).is_ok());
    let over = "a".repeat(MAX_PATTERN_LEN + 1);
    assert_eq!(
        refusal(&over).kind,
        RegexpErrorKind::TooLong {
            len: MAX_PATTERN_LEN + 1,
            max: MAX_PATTERN_LEN
        }
    );
    // One astral character is two UTF-16 units, as Java counts.
    let astral = "😀".repeat(MAX_PATTERN_LEN / 2 + 1);
    assert!(matches!(
        refusal(&astral).kind,
        RegexpErrorKind::TooLong { .. }
    ));
}

#[test]
fn hostile_patterns_are_bounded() {
    // Nesting: groups and stacked operators alike.
    let deep = format!(
        "{}a{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert!(matches!(
        refusal(&deep).kind,
        RegexpErrorKind::TooDeep { .. }
    ));
    let stacked = format!("a{}", "*".repeat(MAX_DEPTH + 1));
    assert!(matches!(
        refusal(&stacked).kind,
        RegexpErrorKind::TooDeep { .. }
    ));
    let tildes = format!("{}a", "~".repeat(MAX_DEPTH + 1));
    assert!(matches!(
        refusal(&tildes).kind,
        RegexpErrorKind::TooDeep { .. }
    ));
    assert!(Regexp::new(&format!("{}a{}", "(".repeat(32), ")".repeat(32)), false).is_ok());
    // Repetitions that multiply past the NFA bound.
    let blowup = "((((a{1000}){1000}){1000}){1000})";
    assert!(matches!(
        refusal(blowup).kind,
        RegexpErrorKind::TooBig { .. }
    ));
    assert!(matches!(
        refusal("\\w{1000}{1000}").kind,
        RegexpErrorKind::TooBig { .. }
    ));
    // A bounded but large pattern still compiles and runs in linear time.
    let wide = Regexp::new("(.*a.{20})", false).unwrap();
    let long = "ab".repeat(50_000);
    // The 21st character from the end decides: 'a' in the first, 'b' in the second.
    assert!(wide.is_match(&long[..long.len() - 1]));
    assert!(!wide.is_match(&long));
    assert!(Regexp::new(&"(a|b)".repeat(200), false).is_ok());
}

#[test]
fn a_hundred_kilobyte_pattern_is_refused_without_parsing() {
    let huge = "(a|b)*".repeat(100 * 1024 / 6);
    assert!(matches!(
        refusal(&huge).kind,
        RegexpErrorKind::TooLong { .. }
    ));
}

#[test]
fn clones_share_and_compare_by_pattern() {
    let re = Regexp::new("a.c", true).unwrap();
    let copy = re.clone();
    assert_eq!(re, copy);
    assert!(copy.is_match("ABC"));
    assert_ne!(re, Regexp::new("a.c", false).unwrap());
    fn send_sync<T: Send + Sync>(_: &T) {}
    send_sync(&re);
    assert_eq!((re.as_str(), re.is_case_insensitive()), ("a.c", true));
}

#[test]
fn complement_and_intersection_stay_bounded() {
    // Each copy of a repeated `~` operand is a whole DFA: bounded states.
    assert_eq!(
        refusal("(~(a{500})){1000}").kind,
        RegexpErrorKind::TooComplex
    );
    // ... which stays small when the operand's DFA is.
    // (No piece may be "a", and "" pieces cannot make one.)
    let many = Regexp::new("((~a){1000}){1000}", false).unwrap();
    assert!(many.is_match("") && many.is_match("aa") && !many.is_match("a"));
    let deep = format!("{}a", "~".repeat(MAX_DEPTH - 1));
    assert!(Regexp::new(&deep, false).unwrap().is_match("b"));
    let re = Regexp::new("(~(a{0,3}))&.{0,8}", false).unwrap();
    assert!(re.is_match("aaaa") && !re.is_match("aaa") && !re.is_match("aaaaaaaaa"));
}

/// The automaton path and regex-automata must agree wherever both apply:
/// random patterns without `~` or `&`, compiled both ways, on random
/// strings over the same small alphabet.
#[test]
fn own_automaton_agrees_with_regex_automata() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n) as usize
    };
    const ATOMS: &[&str] = &[
        "a", "b", "é", ".", "[ab]", "[^a]", "\\d", "<1-12>", "\"ab\"", "()", "@", "#",
    ];
    const POSTFIX: &[&str] = &["", "", "*", "+", "?", "{2}", "{0,2}", "{1,}"];
    const ALPHABET: &[&str] = &["a", "b", "é", "1", "0", "A"];
    for _ in 0..1500 {
        let mut pattern = String::new();
        for _ in 0..1 + next(5) {
            let atom = ATOMS[next(ATOMS.len() as u64)];
            if next(4) == 0 {
                let other = ATOMS[next(ATOMS.len() as u64)];
                pattern.push_str(&format!("({atom}|{other})"));
            } else {
                pattern.push_str(atom);
            }
            pattern.push_str(POSTFIX[next(POSTFIX.len() as u64)]);
        }
        let insensitive = next(2) == 1;
        let tree = super::parse::parse(&pattern).unwrap();
        let ours = super::automaton::compile(&tree, insensitive).unwrap();
        let theirs = Regexp::new(&pattern, insensitive).unwrap();
        for _ in 0..20 {
            let text: String = (0..next(6))
                .map(|_| ALPHABET[next(ALPHABET.len() as u64)])
                .collect();
            assert_eq!(
                ours.is_match(&text),
                theirs.is_match(&text),
                "{pattern:?} (ci={insensitive}) on {text:?}"
            );
        }
    }
}

/// In-process fuzzing with a fixed seed (scripts/fuzz.sh runs the real
/// fuzzer): random strings of Lucene's operators, letters and digits must
/// compile or be refused at an offset inside the pattern, never panic; and
/// where both engines can run a pattern, they must agree.
#[test]
fn random_operator_soup_is_answered_and_both_engines_agree() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    const PIECES: &[&str] = &[
        "a", "b", "é", "1", "0", ".", "*", "+", "?", "|", "(", ")", "[", "]", "^", "-", "{", "}",
        ",", "2", "\"", "\\", "d", "w", "<", ">", "~", "&", "@", "#",
    ];
    const ALPHABET: &[&str] = &["a", "b", "é", "1", "0", "A", "-"];
    let (mut compiled, mut compared) = (0, 0);
    for _ in 0..20_000 {
        let pattern: String = (0..1 + next(14))
            .map(|_| PIECES[next(PIECES.len())])
            .collect();
        let insensitive = next(2) == 1;
        let regexp = match Regexp::new(&pattern, insensitive) {
            Ok(regexp) => regexp,
            Err(e) => {
                assert!(e.offset <= pattern.len(), "{pattern:?}: {e}");
                continue;
            }
        };
        compiled += 1;
        let tree = super::parse::parse(&pattern).unwrap();
        // Past its work bound the automaton refuses; regex-automata may not.
        let ours = super::automaton::compile(&tree, insensitive).ok();
        for _ in 0..8 {
            let text: String = (0..next(6))
                .map(|_| ALPHABET[next(ALPHABET.len())])
                .collect();
            let matched = regexp.is_match(&text);
            if let Some(ours) = &ours {
                assert_eq!(
                    ours.is_match(&text),
                    matched,
                    "{pattern:?} (ci={insensitive}) on {text:?}"
                );
                compared += 1;
            }
        }
    }
    assert!(
        compiled > 2_000 && compared > 10_000,
        "{compiled} compiled, {compared} compared"
    );
}
