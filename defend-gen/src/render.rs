//! Turns a scheduled event into one line of JSON.

use crate::util::{
    base64_digits, kv_str, kv_u64, push_json_str, push_padded, push_timestamp, push_u64,
    splitmix64, HEX, TICKS_PER_SEC,
};
use crate::world::{basename, Proc};
use crate::{FileAction, Generator, NetAction, Pending, ProcAction, Spec};

/// The extension Defend reports for a file name: the text after the last dot,
/// when the name has a dot that is neither first nor last.
pub(crate) fn extension(name: &str) -> Option<&str> {
    match name.rfind('.') {
        Some(i) if i > 0 && i + 1 < name.len() => Some(&name[i + 1..]),
        _ => None,
    }
}

const ROOT_CAPS: &str = "[\"CAP_NET_BIND_SERVICE\",\"CAP_NET_RAW\",\"CAP_SYS_ADMIN\"]";

fn push_hex_from(out: &mut String, seed: u64, salt: u64, n: usize) {
    let mut st = seed ^ salt;
    let mut left = n;
    while left > 0 {
        let mut v = splitmix64(&mut st);
        for _ in 0..16.min(left) {
            out.push(HEX[(v & 15) as usize] as char);
            v >>= 4;
            left -= 1;
        }
    }
}

/// `"file":{...}` for a path.
fn push_file(out: &mut String, g: &mut Generator, action: FileAction, path: &str) {
    let name = basename(path);
    let ext = extension(name);
    out.push_str(",\"file\":{");
    if action != FileAction::Deletion {
        out.push_str("\"Ext\":{\"entropy\":");
        let e = if ext.is_some_and(|e| matches!(e, "gz" | "bin" | "so" | "elf" | "zip" | "xz")) {
            g.rng.range(7_200_000, 7_999_999)
        } else {
            g.rng.range(2_000_000, 6_200_000)
        };
        push_u64(out, e / 1_000_000);
        out.push('.');
        push_padded(out, e % 1_000_000, 6);
        out.push_str(",\"header_bytes\":\"");
        match ext {
            Some("sh") => out.push_str("23212f62696e2f73680a6375726c202d"),
            Some("py") => out.push_str("23212f7573722f62696e2f656e762070"),
            Some("json") => out.push_str("7b0a2020226964223a20223132333435"),
            Some("gz") => out.push_str("1f8b0800000000000003ecbd5b6f1c49"),
            Some("so" | "elf" | "bin") | None if g.rng.chance(1, 2) => {
                out.push_str("7f454c46020101000000000000000000");
            }
            _ => g.rng.hex(out, 32),
        }
        out.push('"');
        if action == FileAction::Rename {
            out.push_str(",\"original\":{");
            let dir = &path[..path.len() - name.len()];
            let mut orig = String::with_capacity(path.len() + 8);
            orig.push_str(dir);
            orig.push('.');
            orig.push_str(name);
            orig.push_str(".part");
            kv_str(out, "name", basename(&orig));
            out.push(',');
            kv_str(out, "path", &orig);
            out.push('}');
        }
        out.push_str("},");
    }
    if let Some(ext) = ext {
        kv_str(out, "extension", ext);
        out.push(',');
    }
    if action == FileAction::Creation {
        out.push_str("\"hash\":{\"sha256\":\"");
        g.rng.hex(out, 64);
        out.push_str("\"},");
    }
    kv_str(out, "name", name);
    out.push(',');
    kv_str(out, "path", path);
    out.push(',');
    kv_u64(out, "size", g.rng.range(0, 2_000_000) >> g.rng.below(12));
    out.push('}');
}

/// The host's own address on the same family (and scope) as `remote`.
fn local_addr(host: &crate::world::Host, remote: &str) -> String {
    if !remote.contains(':') {
        if remote.starts_with("127.") {
            return "127.0.0.1".to_string();
        }
        return host.ipv4.clone();
    }
    if remote == "::1" {
        return "::1".to_string();
    }
    if remote.starts_with("::ffff:") && remote.contains('.') {
        return format!("::ffff:{}", host.ipv4);
    }
    if ["fe8", "fe9", "fea", "feb"]
        .iter()
        .any(|p| remote.starts_with(p))
    {
        return host.ipv6_ll.clone();
    }
    host.ipv6.clone()
}

fn push_endpoint(out: &mut String, key: &str, ip: Option<&str>, port: u16, bytes: Option<u64>) {
    out.push_str(",\"");
    out.push_str(key);
    out.push_str("\":{");
    if let Some(ip) = ip {
        kv_str(out, "address", ip);
        out.push(',');
    }
    if let Some(b) = bytes {
        kv_u64(out, "bytes", b);
        out.push(',');
    }
    if let Some(ip) = ip {
        kv_str(out, "ip", ip);
        out.push(',');
    }
    kv_u64(out, "port", u64::from(port));
    out.push('}');
}

impl Generator {
    pub(crate) fn render(&mut self, p: Pending, out: &mut String) {
        if p.completes {
            self.designed_alerts += 1;
        }
        let Pending {
            ts,
            host,
            proc,
            spec,
            ..
        } = p;
        let host_idx = host as usize;
        let seq = {
            let h = &mut self.hosts[host_idx];
            h.seq += 1;
            h.seq
        };
        let (dataset, message, action, category, types): (&str, &str, &str, &str, &str) =
            match &spec {
                Spec::Proc(a) => (
                    "endpoint.events.process",
                    "Endpoint process event",
                    match a {
                        ProcAction::Fork => "fork",
                        ProcAction::Exec => "exec",
                        ProcAction::End => "end",
                    },
                    "process",
                    if *a == ProcAction::End {
                        "\"end\""
                    } else {
                        "\"start\""
                    },
                ),
                Spec::Net { action, .. } => (
                    "endpoint.events.network",
                    "Endpoint network event",
                    match action {
                        NetAction::Attempted => "connection_attempted",
                        NetAction::Accepted => "connection_accepted",
                        NetAction::Disconnect => "disconnect_received",
                    },
                    "network",
                    if *action == NetAction::Disconnect {
                        "\"end\""
                    } else {
                        "\"start\""
                    },
                ),
                Spec::Dns { .. } => (
                    "endpoint.events.network",
                    "Endpoint DNS event",
                    "lookup_result",
                    "network",
                    // Defend sends two types; ReferenceDomain keeps every array
                    // to one element so consumers can unwrap them.
                    if self.profile == crate::Profile::ReferenceDomain {
                        "\"info\""
                    } else {
                        "\"protocol\",\"info\""
                    },
                ),
                Spec::File { action, .. } => (
                    "endpoint.events.file",
                    "Endpoint file event",
                    match action {
                        FileAction::Creation => "creation",
                        FileAction::Modification => "modification",
                        FileAction::Deletion => "deletion",
                        FileAction::Rename => "rename",
                    },
                    "file",
                    match action {
                        FileAction::Creation => "\"creation\"",
                        FileAction::Deletion => "\"deletion\"",
                        _ => "\"change\"",
                    },
                ),
            };

        out.push_str("{\"@timestamp\":\"");
        push_timestamp(out, ts);
        out.push_str("\",");
        out.push_str(&self.hosts[host_idx].frag);
        out.push_str(",\"data_stream\":{\"dataset\":\"");
        out.push_str(dataset);
        out.push_str("\",\"namespace\":\"default\",\"type\":\"logs\"},\"event\":{\"action\":\"");
        out.push_str(action);
        out.push_str("\",\"category\":[\"");
        out.push_str(category);
        out.push_str("\"],\"created\":\"");
        push_timestamp(out, ts);
        out.push_str("\",\"dataset\":\"");
        out.push_str(dataset);
        out.push_str("\",\"id\":\"");
        out.push_str(&self.hosts[host_idx].event_prefix);
        out.push_str("+++++");
        base64_digits(out, seq, 7);
        out.push_str("\",\"kind\":\"event\",\"module\":\"endpoint\",\"outcome\":\"");
        out.push_str(match &spec {
            Spec::Net {
                action: NetAction::Attempted,
                ..
            } => "unknown",
            _ => "success",
        });
        out.push_str("\",");
        kv_u64(out, "sequence", seq);
        out.push_str(",\"type\":[");
        out.push_str(types);
        out.push_str("]},");
        out.push_str(&self.users[proc.user].frag);
        out.push(',');
        kv_str(out, "message", message);
        out.push(',');
        self.push_process(out, &proc, &spec, ts);

        match spec {
            Spec::Proc(_) => {}
            Spec::Net {
                action,
                remote,
                remote_port,
                local_port,
            } => {
                let remote_s = remote.as_deref();
                let local = local_addr(&self.hosts[host_idx], remote_s.unwrap_or(""));
                let v6 = remote_s.is_some_and(|r| r.contains(':'));
                let (dst_bytes, src_bytes) = if action == NetAction::Disconnect {
                    (
                        Some(self.rng.range(60, 500_000)),
                        Some(self.rng.range(60, 50_000)),
                    )
                } else {
                    (None, None)
                };
                if action == NetAction::Accepted {
                    // Inbound: the remote peer is the source.
                    push_endpoint(out, "destination", Some(&local), local_port, None);
                } else {
                    push_endpoint(out, "destination", remote_s, remote_port, dst_bytes);
                }
                out.push_str(",\"network\":{\"direction\":\"");
                out.push_str(if action == NetAction::Accepted {
                    "ingress"
                } else {
                    "egress"
                });
                out.push_str("\",\"transport\":\"tcp\",\"type\":\"");
                out.push_str(if v6 { "ipv6" } else { "ipv4" });
                out.push_str("\"}");
                if action == NetAction::Accepted {
                    push_endpoint(out, "source", remote_s, remote_port, None);
                } else {
                    push_endpoint(out, "source", Some(&local), local_port, src_bytes);
                }
            }
            Spec::Dns { question, answer } => {
                push_endpoint(out, "destination", Some("127.0.0.53"), 53, None);
                out.push_str(",\"dns\":{\"question\":{");
                kv_str(out, "name", question);
                out.push_str(",\"type\":\"A\"},\"resolved_ip\":[");
                push_json_str(out, &answer);
                out.push_str("]},\"network\":{\"direction\":\"egress\",\"protocol\":\"dns\",\"transport\":\"udp\",\"type\":\"ipv4\"}");
                let port = self.rng.range(32_768, 60_999) as u16;
                let host = &self.hosts[host_idx];
                push_endpoint(out, "source", Some(&host.ipv4), port, None);
            }
            Spec::File { action, path } => {
                push_file(out, self, action, &path);
            }
        }
        out.push('}');
    }

    fn push_process(&mut self, out: &mut String, proc: &Proc, spec: &Spec, ts: u64) {
        out.push_str(&proc.frag);
        match spec {
            Spec::Proc(a) => {
                if *a == ProcAction::End {
                    out.push_str(",\"exit_code\":0");
                }
                out.push_str(",\"hash\":{\"md5\":\"");
                push_hex_from(out, proc.hash_seed, 1, 32);
                out.push_str("\",\"sha1\":\"");
                push_hex_from(out, proc.hash_seed, 2, 40);
                out.push_str("\",\"sha256\":\"");
                push_hex_from(out, proc.hash_seed, 3, 64);
                out.push_str("\"},\"working_directory\":");
                let uid = self.users[proc.user].uid;
                push_json_str(
                    out,
                    match uid {
                        0 => "/root",
                        1000 => "/home/ubuntu",
                        1001 => "/home/deploy",
                        _ => "/",
                    },
                );
            }
            Spec::Net { .. } | Spec::Dns { .. } => {
                out.push_str(",\"thread\":{\"capabilities\":{\"effective\":");
                let caps = if self.users[proc.user].uid == 0 {
                    ROOT_CAPS
                } else {
                    "[]"
                };
                out.push_str(caps);
                out.push_str(",\"permitted\":");
                out.push_str(caps);
                out.push_str("}},\"uptime\":");
                push_u64(out, ts.saturating_sub(proc.start) / TICKS_PER_SEC);
            }
            Spec::File { .. } => {}
        }
        out.push('}');
    }
}
