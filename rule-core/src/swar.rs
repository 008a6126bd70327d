//! Byte search a word at a time (SWAR: SIMD within a register), in plain
//! integer arithmetic, so it runs the same in every build, the SIMD-free
//! Fluent Bit module included, and in wasm without `simd128`: the decoder's
//! string and key scans, the batch splitter's line ends and the ASCII part
//! of an event's UTF-8 check.

/// A byte of ones in every lane.
pub(crate) const LO: u64 = 0x0101_0101_0101_0101;
/// The high bit of every lane.
pub(crate) const HI: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `w` equal to `b` (and maybe of bytes above
/// such a one: borrows only run upwards, so the lowest flagged byte is
/// always a true one).
#[inline(always)]
pub(crate) fn eq_mask(w: u64, b: u8) -> u64 {
    let x = w ^ (LO * u64::from(b));
    x.wrapping_sub(LO) & !x & HI
}

/// The first `needle` in `haystack` at or after `from`. memchr's portable
/// fallback tests a `usize` per step, four bytes on wasm32; this tests
/// eight (wasm has 64-bit integers), about half the instructions a wasm
/// host pays under its CPU bound.
// Natively memchr's SIMD search is used instead (`engine::line_ends`).
#[cfg_attr(
    not(all(target_arch = "wasm32", not(target_feature = "simd128"))),
    allow(dead_code)
)]
pub(crate) fn find_byte(haystack: &[u8], needle: u8, from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(Ok(word)) = haystack.get(i..i + 8).map(<[u8; 8]>::try_from) {
        let found = eq_mask(u64::from_le_bytes(word), needle);
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    let rest = haystack.get(i..)?;
    rest.iter().position(|&b| b == needle).map(|p| i + p)
}

/// How many leading bytes of `bytes` are ASCII, in whole sixteen-byte
/// blocks (so perhaps fewer than all the ASCII there is): two words and one
/// test per block, where `core::str::from_utf8` steps a `usize` at a time,
/// four bytes in wasm32.
pub(crate) fn ascii_blocks_len(bytes: &[u8]) -> usize {
    let mut ascii = 0;
    for block in bytes.chunks_exact(16) {
        let (Ok(low), Ok(high)) = (
            <[u8; 8]>::try_from(&block[..8]),
            <[u8; 8]>::try_from(&block[8..]),
        ) else {
            break;
        };
        if (u64::from_le_bytes(low) | u64::from_le_bytes(high)) & HI != 0 {
            break;
        }
        ascii += 16;
    }
    ascii
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every position of the needle, and none, at every alignment, among
    /// bytes that differ from it by one bit (borrow and carry cases).
    #[test]
    fn find_byte_finds_what_a_byte_loop_finds() {
        for len in 0..40 {
            for at in 0..=len {
                for filler in [0u8, b'\n' ^ 1, b'\n' ^ 0x80, 0xff, b'\n' - 1, b'\n' + 1] {
                    let mut bytes = alloc::vec![filler; len];
                    if at < len {
                        bytes[at] = b'\n';
                        if at + 1 < len {
                            bytes[at + 1] = b'\n';
                        }
                    }
                    for from in 0..=len {
                        let expected = bytes[from..]
                            .iter()
                            .position(|&b| b == b'\n')
                            .map(|p| from + p);
                        assert_eq!(
                            find_byte(&bytes, b'\n', from),
                            expected,
                            "{bytes:?} from {from}"
                        );
                    }
                }
            }
        }
        assert_eq!(find_byte(b"abc", b'\n', 7), None);
    }

    /// Whole ASCII blocks up to the first one with a byte above 0x7F.
    #[test]
    fn ascii_blocks_stop_at_the_first_high_byte() {
        for len in 0..70 {
            for at in 0..=len {
                let mut bytes = alloc::vec![b'a'; len];
                if at < len {
                    bytes[at] = 0x80;
                }
                let ascii = ascii_blocks_len(&bytes);
                assert_eq!(ascii, at.min(len) / 16 * 16, "len {len}, high byte at {at}");
            }
        }
    }
}
