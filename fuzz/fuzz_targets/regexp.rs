//! Any pattern and haystack: compiling answers Ok or a RegexpError whose
//! offset is inside the pattern, matching answers a bool; never a panic,
//! and time is bounded by the pattern limits (fuzz with -timeout).
//! Input: one flag byte (bit 0: `regex~`), the pattern up to the first NUL,
//! the haystack after it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rule_core::Regexp;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (pattern, haystack) = match rest.iter().position(|&b| b == 0) {
        Some(nul) => (&rest[..nul], &rest[nul + 1..]),
        None => (rest, &[][..]),
    };
    let (Ok(pattern), Ok(haystack)) = (std::str::from_utf8(pattern), std::str::from_utf8(haystack))
    else {
        return;
    };
    match Regexp::new(pattern, flags & 1 == 1) {
        Ok(re) => {
            let _ = re.is_match(haystack);
            let _ = re.clone().is_match(pattern);
        }
        Err(e) => assert!(e.offset <= pattern.len(), "{e} for {pattern:?}"),
    }
});
