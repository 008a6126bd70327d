//! Background activity: system processes and benign writable-path
//! programs, in roles that can never complete the rule's sequence.

use std::sync::Arc;

use super::names::*;
use super::{dir_of, exe_of, rand_name, Launch};
use crate::ip;
use crate::render::extension;
use crate::util::push_u64;
use crate::world::{Exe, Proc, Role, COMMANDS, DEPLOY, ROOT};
use crate::{FileAction, Generator, NetAction, Spec};

impl Generator {
    fn system_file_name(&mut self, out: &mut String) {
        let rd = self.rd();
        match self.rng.below(12) {
            0 => {
                out.push_str(self.rng.pick_str(LOG_NAMES));
                out.push_str(".log");
            }
            1 => {
                out.push_str(self.rng.pick_str(LOG_NAMES));
                out.push_str(".log.");
                push_u64(out, self.rng.range(1, 9));
            }
            2 => {
                self.rng.hex(out, 16);
                out.push_str(".json");
            }
            3 => {
                rand_name(&mut self.rng, out, 8);
                out.push_str(".tmp");
            }
            4 => out.push_str("state.json"),
            5 => self.rng.hex(out, 40),
            6 => {
                rand_name(&mut self.rng, out, 6);
                out.push_str(".pid");
            }
            7 => {
                out.push_str(self.rng.pick_str(&["index", "cache", "places", "history"]));
                out.push_str(
                    self.rng
                        .pick_str(&[".sqlite-journal", ".db-journal", ".lock"]),
                );
            }
            8 => {
                out.push_str("tmp");
                rand_name(&mut self.rng, out, 6);
            }
            9 => {
                rand_name(&mut self.rng, out, 8);
                out.push_str(".gz");
            }
            10 => {
                out.push('0');
                push_u64(out, self.rng.range(10_000, 99_999));
                out.push_str(self.rng.pick_str(&[".sst", ".ldb", ""]));
            }
            _ => {
                if rd {
                    out.push_str(self.rng.pick_str(&["readme.md", "notes.txt", "report.csv"]));
                } else {
                    out.push_str(self.rng.pick_str(&[
                        "Report-2026-11.PDF",
                        "Makefile",
                        "README.md",
                        "IMG_2041.JPG",
                        "Dockerfile",
                    ]));
                }
            }
        }
        if rd && extension(out.rsplit('/').next().unwrap_or("")).is_none() {
            out.push_str(".dat");
        }
    }

    fn file_action(&mut self) -> FileAction {
        match self.rng.below(100) {
            0..=44 => FileAction::Creation,
            45..=79 => FileAction::Modification,
            80..=91 => FileAction::Deletion,
            _ => FileAction::Rename,
        }
    }

    fn pick_pool(&mut self, h: usize, want: impl Fn(&Exe) -> bool) -> Arc<Proc> {
        let host = &self.hosts[h];
        for _ in 0..6 {
            let i = self.rng.below(host.pool.len() as u64) as usize;
            if want(exe_of(host.pool[i].kind)) {
                return Arc::clone(&host.pool[i]);
            }
        }
        if !host.shells.is_empty() && self.rng.chance(1, 2) {
            let i = self.rng.below(host.shells.len() as u64) as usize;
            return Arc::clone(&host.shells[i]);
        }
        Arc::clone(&host.pool[self.rng.below(host.pool.len() as u64) as usize])
    }

    fn sys_file_event(&mut self, ts: u64, h: usize, p: &Arc<Proc>) {
        let exe = exe_of(p.kind);
        let mut path = String::with_capacity(80);
        if exe.dirs.is_empty() {
            path.push_str("/var/tmp");
        } else {
            path.push_str(self.rng.pick_str(exe.dirs));
        }
        path.push('/');
        self.system_file_name(&mut path);
        let action = self.file_action();
        self.file(ts, h, p, action, path, false);
    }

    fn sys_net_event(&mut self, ts: u64, h: usize, p: &Arc<Proc>) {
        let exe = exe_of(p.kind);
        let port = if exe.ports.is_empty() {
            443
        } else {
            *self.rng.pick(exe.ports)
        };
        let server = exe.net == 2 || (exe.net == 3 && self.rng.chance(1, 2));
        if server {
            // An inbound connection always has a peer address.
            let remote = if self.rng.chance(7, 10) {
                self.private_dest()
                    .or_else(|| Some(ip::private_v4(&mut self.rng)))
            } else {
                Some(self.public_dest())
            };
            let remote_port = self.eph_port();
            self.push(
                ts,
                h,
                p,
                Spec::Net {
                    action: NetAction::Accepted,
                    remote,
                    remote_port,
                    local_port: port,
                },
                false,
            );
        } else {
            let remote = if self.rng.chance(11, 20) {
                Some(self.public_dest())
            } else {
                self.private_dest()
            };
            let local_port = self.eph_port();
            let spec = |action| Spec::Net {
                action,
                remote: remote.clone(),
                remote_port: port,
                local_port,
            };
            self.push(ts, h, p, spec(NetAction::Attempted), false);
            if self.rng.chance(1, 2) {
                let t = ts + self.off(20, 8_000);
                self.push(t, h, p, spec(NetAction::Disconnect), false);
            }
        }
    }

    pub(super) fn dns_event(&mut self, ts: u64, h: usize, p: &Arc<Proc>) {
        let question = *self.rng.pick(DNS_NAMES);
        let answer = ip::public_v4_plain(&mut self.rng);
        self.push(ts, h, p, Spec::Dns { question, answer }, false);
    }

    pub(super) fn bg_system(&mut self, h: usize) {
        let t = self.clock;
        match self.rng.weighted(&[14, 46, 30, 10]) {
            0 => {
                // A command starts, maybe does something, ends or stays.
                let parent = self.some_parent(h);
                let k = *self.rng.pick(&self.commands);
                let cmd = &COMMANDS[k];
                let user = if parent.user == ROOT {
                    cmd.user
                } else {
                    parent.user
                };
                let user = if user == crate::world::POSTGRES {
                    DEPLOY
                } else {
                    user
                };
                let what = Launch {
                    kind: 20_000 + k,
                    ..Launch::new(cmd.path, cmd.args, user, Role::System)
                };
                let p = self.new_proc(h, what, &parent, t);
                self.started(t, h, &p);
                let mut tt = t;
                for _ in 0..self.rng.below(3) {
                    tt += self.off(1, 900);
                    if cmd.net & 1 == 1 && self.rng.chance(1, 2) {
                        self.sys_net_event(tt, h, &p);
                    } else if !cmd.dirs.is_empty() {
                        self.sys_file_event(tt, h, &p);
                    }
                }
                let pool_len = self.hosts[h].pool.len();
                if self.rng.chance(1, 4) && pool_len > 2 {
                    let slot = 1 + self.rng.below(pool_len as u64 - 1) as usize;
                    let old = std::mem::replace(&mut self.hosts[h].pool[slot], p);
                    self.ended(tt, h, &old);
                } else {
                    let te = tt + self.off(1, 2_000);
                    self.ended(te, h, &p);
                }
            }
            1 => {
                let p = self.pick_pool(h, |e| !e.dirs.is_empty());
                self.sys_file_event(t, h, &p);
            }
            2 => {
                let p = self.pick_pool(h, |e| e.net != 0);
                self.sys_net_event(t, h, &p);
            }
            _ => {
                let p = self.pick_pool(h, |e| e.net & 1 == 1);
                self.dns_event(t, h, &p);
            }
        }
    }

    fn benign_writable_exe(&mut self) -> String {
        let r = self.rng.below(100);
        if !self.rd() && r < 8 {
            (*self.rng.pick(BENIGN_WRITABLE_MIXED)).to_string()
        } else if r < 60 {
            (*self.rng.pick(BENIGN_WRITABLE)).to_string()
        } else {
            self.implant_exe()
        }
    }

    pub(super) fn bg_writable(&mut self, h: usize) {
        let t = self.clock;
        let n = self.hosts[h].writable.len();
        if n == 0 || (n < 3 && self.rng.chance(1, 15)) {
            let exe = self.benign_writable_exe();
            let role = if self.rng.chance(1, 2) {
                Role::WritableNet
            } else {
                Role::WritableFile
            };
            let parent = self.some_parent(h);
            let user = self.implant_user(&exe);
            let p = self.new_proc(h, Launch::new(&exe, "", user, role), &parent, t);
            self.started(t, h, &p);
            self.hosts[h].writable.push(p);
            return;
        }
        let i = self.rng.below(n as u64) as usize;
        let p = Arc::clone(&self.hosts[h].writable[i]);
        if self.rng.chance(1, 60) {
            self.hosts[h].writable.swap_remove(i);
            self.ended(t, h, &p);
            return;
        }
        match p.role {
            Role::WritableNet => match self.rng.weighted(&[50, 15, 15, 20]) {
                0 => {
                    let remote = if self.rng.chance(1, 2) {
                        Some(self.public_dest())
                    } else {
                        self.private_dest()
                    };
                    self.attempt(t, h, &p, remote);
                }
                1 | 2 => {
                    let action = if self.rng.chance(1, 2) {
                        NetAction::Accepted
                    } else {
                        NetAction::Disconnect
                    };
                    let remote = Some(self.public_dest());
                    let remote_port = self.eph_port();
                    let local_port = *self.rng.pick(&[8080u16, 3000, 9229, 8000]);
                    self.push(
                        t,
                        h,
                        &p,
                        Spec::Net {
                            action,
                            remote,
                            remote_port,
                            local_port,
                        },
                        false,
                    );
                }
                _ => self.dns_event(t, h, &p),
            },
            _ => match self.rng.weighted(&[80, 12, 8]) {
                0 => {
                    let mut path = String::with_capacity(64);
                    if self.rng.chance(1, 2) {
                        path.push_str(dir_of(&p.executable));
                    } else {
                        path.push_str(self.rng.pick_str(&[
                            "/tmp/",
                            "/var/tmp/",
                            "/dev/shm/",
                            "/home/ubuntu/.cache/",
                        ]));
                    }
                    self.system_file_name(&mut path);
                    let action = self.file_action();
                    self.file(t, h, &p, action, path, false);
                }
                1 => {
                    let remote = self.private_dest();
                    self.attempt(t, h, &p, remote);
                }
                _ => {
                    let remote = Some(self.public_dest());
                    let remote_port = self.eph_port();
                    self.push(
                        t,
                        h,
                        &p,
                        Spec::Net {
                            action: NetAction::Accepted,
                            remote,
                            remote_port,
                            local_port: 8080,
                        },
                        false,
                    );
                }
            },
        }
    }
}
