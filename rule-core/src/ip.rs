//! IP values as Elasticsearch's `ip` type sees them: IPv4 is IPv4-mapped
//! IPv6, so `::ffff:10.0.0.1` and `10.0.0.1` are the same address (P9).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use ipnet::IpNet;

/// Parses an address and folds IPv4-mapped IPv6 to IPv4.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    if let Some(v4) = dotted_quad(text.as_bytes()) {
        return Some(IpAddr::V4(v4));
    }
    if let Some(v6) = hex_groups(text.as_bytes()) {
        return Some(canonical(IpAddr::V6(v6)));
    }
    text.parse::<IpAddr>().ok().map(canonical)
}

/// An IPv6 address without an embedded IPv4 part, read as the standard
/// parser reads it (up to eight groups of 1 to 4 hex digits, or a head and
/// a tail around one `::` standing for at least one zero group) in one
/// pass without its detours; `None` for anything else (a `.`, a fifth
/// digit, a stray `:`), which the standard parser then judges. Hosts
/// report several IPv6 addresses per event (`host.ip`).
fn hex_groups(text: &[u8]) -> Option<Ipv6Addr> {
    if !(2..=39).contains(&text.len()) {
        return None;
    }
    let mut groups = [0u16; 8];
    let mut count = 0usize;
    // Where `::` stands among the groups, if it does.
    let mut gap: Option<usize> = None;
    let mut at = 0usize;
    if text.starts_with(b"::") {
        gap = Some(0);
        at = 2;
    }
    loop {
        let start = at;
        let mut value = 0u16;
        while at - start < 4 {
            let digit = text.get(at).map_or(NOT_HEX, |&b| HEX_DIGIT[usize::from(b)]);
            if digit == NOT_HEX {
                break;
            }
            value = value << 4 | u16::from(digit);
            at += 1;
        }
        if at == start || count == 8 {
            return None;
        }
        groups[count] = value;
        count += 1;
        match (text.get(at), text.get(at + 1)) {
            (None, _) => break,
            (Some(b':'), Some(b':')) if gap.is_none() => {
                gap = Some(count);
                at += 2;
                if at == text.len() {
                    break;
                }
            }
            (Some(b':'), Some(_)) => at += 1,
            _ => return None,
        }
    }
    match gap {
        None if count == 8 => Some(Ipv6Addr::from(groups)),
        // `::` stands for one group at least.
        Some(gap) if count < 8 => {
            let tail = count - gap;
            groups.copy_within(gap..count, 8 - tail);
            groups[gap..8 - tail].fill(0);
            Some(Ipv6Addr::from(groups))
        }
        _ => None,
    }
}

/// Marks a byte that is no hex digit in [`HEX_DIGIT`].
const NOT_HEX: u8 = 0xff;

/// Each byte's value as a hex digit (either case), else [`NOT_HEX`]: a
/// host's IPv6 addresses are most of an event's hex digits, and a table
/// costs fewer instructions per digit than `char::to_digit`.
const HEX_DIGIT: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut b = 0usize;
    while b < 256 {
        table[b] = match b as u8 {
            d @ b'0'..=b'9' => d - b'0',
            d @ b'a'..=b'f' => d - b'a' + 10,
            d @ b'A'..=b'F' => d - b'A' + 10,
            _ => NOT_HEX,
        };
        b += 1;
    }
    table
};

/// The common case, an IPv4 address in its usual form (four decimal parts
/// of 1 to 3 digits, none above 255, no leading zero), read in one pass;
/// `None` for anything else, which the standard parser then judges (so
/// this only takes what it would take, and reads it the same). An event
/// carries many addresses, and the standard parser tries a longer route.
fn dotted_quad(text: &[u8]) -> Option<Ipv4Addr> {
    if !(7..=15).contains(&text.len()) {
        return None;
    }
    let mut parts = [0u8; 4];
    let mut part = 0usize;
    let (mut value, mut digits) = (0u32, 0u32);
    for &b in text {
        match b {
            b'0'..=b'9' => {
                if digits == 1 && value == 0 {
                    return None; // a leading zero
                }
                value = value * 10 + u32::from(b - b'0');
                digits += 1;
                if digits > 3 {
                    return None;
                }
            }
            b'.' if digits > 0 && part < 3 => {
                parts[part] = u8::try_from(value).ok()?;
                part += 1;
                (value, digits) = (0, 0);
            }
            _ => return None,
        }
    }
    if part != 3 || digits == 0 {
        return None;
    }
    parts[3] = u8::try_from(value).ok()?;
    Some(Ipv4Addr::from(parts))
}

pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// A `cidrmatch` argument: a CIDR or a bare address (an exact match). A
/// network inside `::ffff:0:0/96` is folded to its IPv4 form.
pub fn parse_network(text: &str) -> Option<IpNet> {
    if let Ok(net) = text.parse::<IpNet>() {
        return Some(canonical_net(net));
    }
    let ip = parse_ip(text)?;
    Some(IpNet::from(ip))
}

fn canonical_net(net: IpNet) -> IpNet {
    if let IpNet::V6(v6) = net {
        if let (Some(v4), true) = (v6.addr().to_ipv4_mapped(), v6.prefix_len() >= 96) {
            if let Ok(n) = ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96) {
                return IpNet::V4(n.trunc());
            }
        }
    }
    net.trunc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_is_v4() {
        let net = parse_network("192.168.0.0/16").unwrap();
        assert!(net.contains(&parse_ip("::ffff:192.168.1.10").unwrap()));
        assert_eq!(parse_ip("::ffff:0.0.0.0"), parse_ip("0.0.0.0"));
        assert!(parse_network("FE80::/10")
            .unwrap()
            .contains(&parse_ip("fe80::1").unwrap()));
        let one = parse_network("::1").unwrap();
        assert!(one.contains(&parse_ip("::1").unwrap()));
        assert!(!one.contains(&parse_ip("::2").unwrap()));
        let mapped_net = parse_network("::ffff:10.0.0.0/104").unwrap();
        assert!(mapped_net.contains(&parse_ip("10.1.2.3").unwrap()));
        assert!(parse_ip("300.1.1.1").is_none());
    }

    /// The one-pass IPv4 reader takes exactly what the standard parser
    /// takes, with the same address, over every short mix of the
    /// characters that matter.
    #[test]
    fn dotted_quads_are_read_as_the_standard_parser_reads_them() {
        let alphabet = [b'0', b'1', b'2', b'5', b'9', b'.', b'x'];
        let mut checked = 0;
        let mut text = alloc::vec::Vec::new();
        let mut check = |text: &[u8]| {
            let s = core::str::from_utf8(text).unwrap();
            let ours = dotted_quad(text);
            let theirs = s.parse::<Ipv4Addr>().ok();
            assert!(
                ours.is_none() || ours == theirs,
                "{s}: {ours:?} vs {theirs:?}"
            );
            assert_eq!(parse_ip(s), s.parse::<IpAddr>().ok().map(canonical), "{s}");
            checked += 1;
        };
        // Every string of up to 7 of these characters, then real-looking ones.
        every_string(&mut text, 7, &alphabet, &mut check);
        for s in [
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3.4",
            "01.2.3.4",
            "1.2.3.04",
            "0.0.0.0",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            ".1.2.3",
            "1.2.3.",
            "192.168.100.200",
            "1.2.3.4 ",
            "1234.1.1.1",
            "10.0.0.1",
        ] {
            check(s.as_bytes());
        }
        assert!(checked > 900_000);
        assert_eq!(
            dotted_quad(b"192.168.100.200"),
            Some(Ipv4Addr::new(192, 168, 100, 200))
        );
    }

    /// The same for IPv6 without an embedded IPv4 part: every string of up
    /// to 8 characters over hex digits, `:` and a non-digit, then longer
    /// real-looking ones.
    #[test]
    fn hex_groups_are_read_as_the_standard_parser_reads_them() {
        let alphabet = [b'0', b'f', b'A', b':', b'g'];
        let mut checked = 0;
        let mut check = |text: &[u8]| {
            let s = core::str::from_utf8(text).unwrap();
            let ours = hex_groups(text);
            let theirs = s.parse::<Ipv6Addr>().ok();
            assert!(
                ours.is_none() || ours == theirs,
                "{s}: {ours:?} vs {theirs:?}"
            );
            assert_eq!(parse_ip(s), s.parse::<IpAddr>().ok().map(canonical), "{s}");
            checked += 1;
        };
        let mut text = alloc::vec::Vec::new();
        every_string(&mut text, 8, &alphabet, &mut check);
        for s in [
            "::",
            "::1",
            "1::",
            "fe80::17b8:93b6:e273:e1fd",
            "2600:1f18:a274:e53c:ddbc:6740:1ad3:b53f",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            ":::",
            "12345::",
            "::ffff:a00:1",
            "::ffff:10.0.0.1",
            "FE80::1",
            "fe80::1%eth0",
            "0000:0000:0000:0000:0000:0000:0000:0001",
            "1:2:3:4:5:6:7:8::",
            ":1::",
            "1:",
            "::1:",
        ] {
            check(s.as_bytes());
        }
        assert!(checked > 400_000);
        assert_eq!(hex_groups(b"::1"), Some(Ipv6Addr::LOCALHOST));
        // The usual forms are taken by the fast path, not left to std.
        for usual in [
            "fe80::17b8:93b6:e273:e1fd",
            "2600:1f18:a274:e53c:ddbc:6740:1ad3:b53f",
            "1::",
        ] {
            assert!(hex_groups(usual.as_bytes()).is_some(), "{usual}");
        }
        assert_eq!(
            parse_ip("::ffff:a00:1"),
            Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
        );
    }

    /// Calls `f` on every string over `alphabet` of up to `left` more characters.
    fn every_string(
        prefix: &mut alloc::vec::Vec<u8>,
        left: usize,
        alphabet: &[u8],
        f: &mut dyn FnMut(&[u8]),
    ) {
        f(prefix);
        if left == 0 {
            return;
        }
        for &c in alphabet {
            prefix.push(c);
            every_string(prefix, left - 1, alphabet, f);
            prefix.pop();
        }
    }
}
