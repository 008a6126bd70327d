//! IP values as Elasticsearch's `ip` type sees them: IPv4 is IPv4-mapped
//! IPv6, so `::ffff:10.0.0.1` and `10.0.0.1` are the same address (P9).

use core::net::IpAddr;
use ipnet::IpNet;

/// Parses an address and folds IPv4-mapped IPv6 to IPv4.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>().ok().map(canonical)
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
}
