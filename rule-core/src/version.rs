//! The order of Elasticsearch's `version` field type.
//!
//! A `version` field is a keyword whose range queries follow software
//! version precedence (Semantic Versioning 2, with any number of main
//! parts): `2.1.0 < 2.4.1 < 2.11.2`, a pre-release before its release
//! (`1.0.0-alpha < 1.0.0`), pre-release identifiers compared one by one,
//! numeric ones numerically and before alphanumeric ones; a build suffix
//! (`+build.5`) orders as text after the rest. A string that is not such a
//! version orders as plain text after every valid one.
//!
//! Elasticsearch gets this order by indexing each value as bytes that sort
//! in it (`VersionEncoder` in its `x-pack/plugin/mapper-version`); range
//! queries encode their bounds the same way and compare bytes. [`version_key`]
//! builds those same bytes, so the order here is Elasticsearch's by
//! construction rather than by a second reading of the rules. Equality is
//! the text's: distinct strings have distinct keys.

use alloc::vec::Vec;

/// Before each run of digits: the run sorts before any text byte.
const NUMERIC_MARKER: u8 = 0x01;
/// Between the main version and a pre-release: before a release's marker.
const PRERELEASE_MARKER: u8 = 0x02;
/// After a main version without pre-release.
const RELEASE_MARKER: u8 = 0x03;

/// Elasticsearch refuses a version with a run of 128 digits or more (its
/// length must fit in a byte's low seven bits), and one whose first three
/// main parts overflow a Java `int`. Refusing an event for it is not worth
/// a field type of its own here: such a value orders as invalid text.
const MAX_DIGIT_RUN: usize = 127;

/// The bytes Elasticsearch indexes for a `version` value: their byte order
/// is the version order.
pub fn version_key(text: &str) -> Vec<u8> {
    match encode_valid(text) {
        Some(key) => key,
        // An empty string sorts after valid versions, which all start with
        // the numeric marker, as Elasticsearch special-cases it.
        None if text.is_empty() => alloc::vec![RELEASE_MARKER],
        None => text.as_bytes().to_vec(),
    }
}

/// The parts of a version string as Elasticsearch splits it: the build
/// suffix from the first `+`, then the pre-release from the first `-`
/// (each only past the first character).
struct Parts<'a> {
    main: &'a str,
    pre_release: Option<&'a str>,
    build: Option<&'a str>,
}

fn split(text: &str) -> Parts<'_> {
    let (rest, build) = split_suffix(text, '+');
    let (main, pre_release) = split_suffix(rest, '-');
    Parts {
        main,
        pre_release,
        build,
    }
}

fn split_suffix(text: &str, separator: char) -> (&str, Option<&str>) {
    match text.find(separator) {
        Some(at) if at > 0 => (&text[..at], Some(&text[at..])),
        _ => (text, None),
    }
}

/// The key of a valid version, `None` for any other string.
fn encode_valid(text: &str) -> Option<Vec<u8>> {
    let parts = split(text);
    if !is_main_version(parts.main) {
        return None;
    }
    let pre_release = match parts.pre_release {
        Some(p) => Some(p.strip_prefix('-').filter(|ids| is_pre_release(ids))?),
        None => None,
    };
    if let Some(build) = parts.build {
        build.strip_prefix('+').filter(|ids| is_build(ids))?;
    }
    let mut key = Vec::with_capacity(text.len() + 8);
    push_with_digit_runs(parts.main, &mut key)?;
    match pre_release {
        Some(identifiers) => {
            key.push(PRERELEASE_MARKER);
            key.push(b'-');
            for (i, identifier) in identifiers.split('.').enumerate() {
                if i > 0 {
                    key.push(b'.');
                }
                if identifier.bytes().all(|b| b.is_ascii_digit()) {
                    push_with_digit_runs(identifier, &mut key)?;
                } else {
                    key.extend_from_slice(identifier.as_bytes());
                }
            }
        }
        None => key.push(RELEASE_MARKER),
    }
    if let Some(build) = parts.build {
        key.extend_from_slice(build.as_bytes());
    }
    Some(key)
}

/// Copies `text`, each run of digits as the marker, its length (high bit
/// set) and the digits: a longer number sorts after a shorter one.
fn push_with_digit_runs(text: &str, key: &mut Vec<u8>) -> Option<()> {
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let run = bytes[at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if run == 0 {
            key.push(bytes[at]);
            at += 1;
            continue;
        }
        if run > MAX_DIGIT_RUN {
            return None;
        }
        key.push(NUMERIC_MARKER);
        key.push(run as u8 | 0x80);
        key.extend_from_slice(&bytes[at..at + run]);
        at += run;
    }
    Some(())
}

/// `(0|[1-9]\d*)(\.(0|[1-9]\d*))*`: one or more numbers without leading zeros.
fn is_main_version(main: &str) -> bool {
    main.split('.').all(is_number_without_leading_zero)
}

fn is_number_without_leading_zero(part: &str) -> bool {
    !part.is_empty()
        && part.bytes().all(|b| b.is_ascii_digit())
        && (part == "0" || !part.starts_with('0'))
}

/// Dot-separated identifiers, each a number without leading zeros or
/// alphanumerics with hyphens holding a letter or hyphen.
fn is_pre_release(identifiers: &str) -> bool {
    identifiers.split('.').all(|id| {
        is_number_without_leading_zero(id)
            || (!id.is_empty()
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && id.bytes().any(|b| !b.is_ascii_digit()))
    })
}

/// Dot-separated non-empty alphanumerics with hyphens.
fn is_build(identifiers: &str) -> bool {
    identifiers
        .split('.')
        .all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cmp::Ordering;

    fn compare_versions(a: &str, b: &str) -> Ordering {
        version_key(a).cmp(&version_key(b))
    }

    fn assert_ascending(versions: &[&str]) {
        for pair in versions.windows(2) {
            assert_eq!(
                compare_versions(pair[0], pair[1]),
                Ordering::Less,
                "{} < {}",
                pair[0],
                pair[1]
            );
            assert_eq!(compare_versions(pair[1], pair[0]), Ordering::Greater);
        }
    }

    #[test]
    fn semver_precedence() {
        // semver.org's own example, then numeric main parts and their count.
        assert_ascending(&[
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.0+build",
            "1.2",
            "1.2.3",
            "1.2.3.4",
            "2.1.0",
            "2.4.1",
            "2.11.2",
            "10.0.0",
        ]);
    }

    #[test]
    fn invalid_versions_sort_after_valid_ones_as_text() {
        // Leading zeros, letters in the main part, an empty identifier.
        assert_ascending(&["999.0.0", "", "01.2", "1.2.3-", "1.2.alpha.4", "a"]);
        assert_eq!(compare_versions("1.2.alpha", "1.2.alpha"), Ordering::Equal);
    }

    #[test]
    fn elasticsearch_splits_at_the_first_separator() {
        // `-` inside the pre-release is part of an identifier.
        assert!(encode_valid("1.0.0-alpha-1").is_some());
        // A leading `-` or `+` starts no suffix: the main version is invalid.
        assert!(encode_valid("-1").is_none());
        assert!(encode_valid("+1").is_none());
        assert!(encode_valid("1.0.0+").is_none());
        assert!(encode_valid("1.0.0-01").is_none());
        assert!(encode_valid("1.0.0-01a").is_some());
        // Runs of digits are bounded as Elasticsearch bounds them.
        let long = "9".repeat(128);
        assert!(encode_valid(&long).is_none());
        assert!(encode_valid(&long[1..]).is_some());
    }
}
