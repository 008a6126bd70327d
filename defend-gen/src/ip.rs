//! Destination addresses, classified by what the rule's stage-1 exclusion
//! (`destination.ip == null or == "0.0.0.0" or cidrmatch(...)`) does with them.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::util::Rng;

/// IPv4 blocks the rule excludes (address, prefix length).
const EXCLUDED_V4: &[(u32, u8)] = &[
    (0x0A00_0000, 8),  // 10.0.0.0/8
    (0x7F00_0000, 8),  // 127.0.0.0/8
    (0xA9FE_0000, 16), // 169.254.0.0/16
    (0xAC10_0000, 12), // 172.16.0.0/12
    (0xC000_0000, 24), // 192.0.0.0/24
    (0xC000_0000, 29), // 192.0.0.0/29
    (0xC000_0008, 32), // 192.0.0.8/32
    (0xC000_0009, 32),
    (0xC000_000A, 32),
    (0xC000_00AA, 32),
    (0xC000_00AB, 32),
    (0xC000_0200, 24), // 192.0.2.0/24
    (0xC01F_C400, 24), // 192.31.196.0/24
    (0xC034_C100, 24), // 192.52.193.0/24
    (0xC0A8_0000, 16), // 192.168.0.0/16
    (0xC058_6300, 24), // 192.88.99.0/24
    (0xE000_0000, 4),  // 224.0.0.0/4
    (0x6440_0000, 10), // 100.64.0.0/10
    (0xC0AF_3000, 24), // 192.175.48.0/24
    (0xC612_0000, 15), // 198.18.0.0/15
    (0xC633_6400, 24), // 198.51.100.0/24
    (0xCB00_7100, 24), // 203.0.113.0/24
    (0xF000_0000, 4),  // 240.0.0.0/4
];

/// First octets that contain no excluded block at all.
const PUBLIC_FIRST_OCTETS: &[u8] = &[
    1, 2, 3, 5, 8, 9, 13, 15, 18, 20, 23, 24, 31, 34, 35, 37, 40, 44, 45, 46, 50, 51, 52, 54, 62,
    64, 66, 69, 74, 77, 80, 81, 82, 85, 88, 91, 93, 94, 95, 104, 107, 108, 128, 130, 134, 137, 138,
    140, 141, 142, 143, 146, 149, 151, 152, 157, 159, 162, 165, 173, 176, 178, 185, 188, 193, 194,
    195, 199, 204, 205, 206, 207, 208, 209, 212, 213, 216, 217,
];

/// Public addresses right next to excluded blocks (the rule does not exclude them).
const PUBLIC_V4_EDGES: &[&str] = &[
    "172.15.255.254",
    "172.32.0.1",
    "100.63.255.255",
    "100.128.0.1",
    "169.253.255.1",
    "169.255.0.1",
    "192.0.1.1",
    "192.0.3.1",
    "192.167.255.255",
    "192.169.0.1",
    "192.31.195.7",
    "192.31.197.7",
    "192.52.192.9",
    "192.88.98.1",
    "192.88.100.1",
    "192.175.47.1",
    "192.175.49.1",
    "198.17.255.255",
    "198.20.0.1",
    "198.51.99.1",
    "198.51.101.1",
    "203.0.112.1",
    "203.0.114.1",
    "223.255.255.254",
    "11.0.0.1",
    "9.255.255.255",
    "126.255.255.255",
    "128.0.0.1",
    "0.0.0.1",
    "1.1.1.1",
    "8.8.8.8",
];

/// Excluded addresses on the edges of the excluded blocks.
const PRIVATE_V4_EDGES: &[&str] = &[
    "0.0.0.0",
    "10.255.255.255",
    "172.31.255.255",
    "172.16.0.0",
    "100.127.255.255",
    "100.64.0.0",
    "198.19.255.255",
    "169.254.169.254",
    "127.0.0.53",
    "192.0.0.8",
    "192.0.0.170",
    "192.0.0.171",
    "192.0.0.255",
    "224.0.0.251",
    "239.255.255.250",
    "255.255.255.255",
];

const PUBLIC_V6_PREFIXES: &[[u16; 2]] = &[
    [0x2606, 0x4700],
    [0x2a00, 0x1450],
    [0x2a03, 0x2880],
    [0x2600, 0x9000],
    [0x2001, 0x4860],
    [0x2620, 0x01ec],
    [0x2a01, 0x0111],
    [0x2406, 0xda00],
    [0x2400, 0xcb00],
    [0x2a05, 0xd014],
];

/// Public (not excluded) IPv6 addresses next to the excluded blocks, plus a few
/// special-purpose ones the rule does not list.
const PUBLIC_V6_EDGES: &[&str] = &[
    "2001:db8::1",
    "64:ff9b::808:808",
    "fec0::1",
    "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "fe7f:ffff::1",
    "fe00::1",
    "fec0:1234::abcd",
    "feff::1",
    "::2",
    "2002:c000:204::1",
    "100::1",
    "2001:4860:4860::8888",
    "2606:4700:4700::1111",
];

/// Excluded IPv6 addresses (link-local, multicast, ULA), never `::1`.
const PRIVATE_V6_EDGES: &[&str] = &[
    "fe80::1",
    "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "ff02::fb",
    "ff02::1:2",
    "ff05::1:3",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "fc00::",
    "fd00:ec2::254",
    "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
];

fn v4(n: u32) -> String {
    Ipv4Addr::from(n).to_string()
}

fn v6(segs: [u16; 8]) -> String {
    Ipv6Addr::from(segs).to_string()
}

pub(crate) fn public_v4(rng: &mut Rng) -> String {
    if rng.chance(1, 12) {
        return (*rng.pick(PUBLIC_V4_EDGES)).to_string();
    }
    let a = u32::from(*rng.pick(PUBLIC_FIRST_OCTETS));
    let rest = rng.below(1 << 24) as u32;
    let mut n = (a << 24) | rest;
    if n & 0xff == 0 {
        n |= 1;
    }
    v4(n)
}

pub(crate) fn public_v4_plain(rng: &mut Rng) -> String {
    let a = u32::from(*rng.pick(PUBLIC_FIRST_OCTETS));
    v4((a << 24) | (rng.below(1 << 24) as u32) | 1)
}

pub(crate) fn private_v4(rng: &mut Rng) -> String {
    if rng.chance(1, 6) {
        return (*rng.pick(PRIVATE_V4_EDGES)).to_string();
    }
    // Mostly the common RFC 1918 ranges, sometimes any excluded block.
    let (base, len) = match rng.below(8) {
        0..=2 => (0x0A00_0000, 8),
        3 => (0xAC10_0000, 12),
        4 => (0xC0A8_0000, 16),
        _ => *rng.pick(EXCLUDED_V4),
    };
    let host_bits = 32 - u32::from(len);
    let host = if host_bits == 0 {
        0
    } else {
        (rng.next_u64() as u32) & (u32::MAX >> (32 - host_bits))
    };
    v4(base | host)
}

pub(crate) fn public_v6(rng: &mut Rng) -> String {
    if rng.chance(1, 8) {
        return (*rng.pick(PUBLIC_V6_EDGES)).to_string();
    }
    let p = rng.pick(PUBLIC_V6_PREFIXES);
    let mut segs = [p[0], p[1], 0, 0, 0, 0, 0, 0];
    for s in segs.iter_mut().skip(2) {
        *s = if rng.chance(1, 3) {
            0
        } else {
            rng.below(0x10000) as u16
        };
    }
    segs[7] |= 1;
    v6(segs)
}

pub(crate) fn private_v6(rng: &mut Rng) -> String {
    if rng.chance(1, 5) {
        return (*rng.pick(PRIVATE_V6_EDGES)).to_string();
    }
    let mut segs = [0u16; 8];
    match rng.below(3) {
        // fe80::/10
        0 => {
            segs[0] = 0xfe80 | (rng.below(0x40) as u16);
            for s in segs.iter_mut().skip(4) {
                *s = rng.below(0x10000) as u16;
            }
        }
        // ff00::/8
        1 => {
            segs[0] = 0xff00 | (rng.below(0x100) as u16);
            segs[7] = rng.range(1, 0xffff) as u16;
            if rng.chance(1, 2) {
                segs[6] = rng.below(0x10000) as u16;
            }
        }
        // fc00::/7
        _ => {
            segs[0] = 0xfc00 | (rng.below(0x200) as u16);
            for s in segs.iter_mut().skip(1) {
                *s = rng.below(0x10000) as u16;
            }
        }
    }
    segs[7] |= 1;
    v6(segs)
}
