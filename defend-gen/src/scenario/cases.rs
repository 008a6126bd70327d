//! The rule's scenarios: true positives, which schedule the events of a
//! sequence and know which of them complete it, and near misses, each
//! missing the rule in one way.

use super::names::*;
use super::{within, Launch};
use crate::world::Role;
use crate::{FileAction, Generator, NetAction, Spec};

impl Generator {
    // ----- true positives --------------------------------------------------

    fn tp_exe(&mut self) -> String {
        let r = self.rng.below(100);
        if r < 10 {
            (*self.rng.pick(LOOKALIKE_PROCS)).to_string()
        } else if !self.rd() && r < 13 {
            (*self.rng.pick(LOOKALIKE_PROCS_MIXED)).to_string()
        } else if r < 16 {
            "/tmp/terraform".to_string()
        } else {
            self.implant_exe()
        }
    }

    /// A writable-path process reaches a public address, then creates a file
    /// within 5 s: one alert. Variants: several network events first (some to
    /// excluded addresses, which don't replace the pending one), a second file
    /// right after (consumed: no second alert).
    pub(super) fn tp_pair(&mut self, h: usize) {
        let t0 = self.clock;
        let exe = self.tp_exe();
        let p = self.scenario_proc(h, &exe, t0);
        let mut t = t0 + self.off(1, 1_500);
        let k = if self.rd() {
            *self.rng.pick(&[1u64, 1, 2, 2, 3, 4])
        } else {
            *self.rng.pick(&[1u64, 1, 1, 1, 1, 2, 2, 3])
        };
        let mut last_public = t;
        for i in 0..k {
            if i > 0 {
                t += self.off(0, 2_500);
            }
            if i > 0 && self.rng.chance(1, 4) {
                let remote = self.private_dest();
                self.attempt(t, h, &p, remote);
            } else {
                let remote = Some(self.public_dest());
                self.attempt(t, h, &p, remote);
                last_public = t;
            }
        }
        let gap = self.match_gap();
        let tf = (last_public + gap).max(t);
        let path = if exe == "/tmp/terraform" {
            "/tmp/terraform.tfstate".to_string()
        } else {
            self.drop_path(&exe)
        };
        let completes = within(last_public, tf);
        self.file(tf, h, &p, FileAction::Creation, path, completes);
        let mut tend = tf;
        if self.rng.chance(1, 4) {
            // A second file: the sequence was consumed, so no second alert.
            let tf2 = tf + self.off(0, 800);
            let path2 = self.drop_path(&exe);
            self.file(tf2, h, &p, FileAction::Creation, path2, false);
            tend = tf2;
        }
        if self.rng.chance(1, 2) {
            let te = tend + self.off(1, 3_000);
            self.ended(te, h, &p);
        }
    }

    /// An implant polling its server: rounds of network then file.
    pub(super) fn beacon(&mut self, h: usize) {
        let t0 = self.clock;
        let exe = self.implant_exe();
        let p = self.scenario_proc(h, &exe, t0);
        let rounds = self.rng.range(2, 5);
        let mut t = t0 + self.off(1, 1_000);
        let remote = self.public_dest();
        for _ in 0..rounds {
            self.attempt(t, h, &p, Some(remote.clone()));
            let tf = t + self.match_gap();
            let path = self.drop_path(&exe);
            let completes = within(t, tf);
            self.file(tf, h, &p, FileAction::Creation, path, completes);
            t = tf + self.off(2_000, 20_000);
        }
    }

    // ----- near misses -----------------------------------------------------

    /// The file comes too late (over 5 s after the network event).
    pub(super) fn nm_late(&mut self, h: usize) {
        let t0 = self.clock;
        let exe = self.implant_exe();
        let p = self.scenario_proc(h, &exe, t0);
        let t = t0 + self.off(1, 1_000);
        let remote = Some(self.public_dest());
        self.attempt(t, h, &p, remote);
        let tf = t + self.late_gap();
        let path = self.drop_path(&exe);
        let completes = within(t, tf);
        self.file(tf, h, &p, FileAction::Creation, path, completes);
    }

    /// Only excluded destinations.
    pub(super) fn nm_private(&mut self, h: usize) {
        let t0 = self.clock;
        let exe = self.implant_exe();
        let p = self.scenario_proc(h, &exe, t0);
        let mut t = t0 + self.off(1, 1_000);
        for _ in 0..self.rng.range(1, 3) {
            let remote = self.private_dest();
            self.attempt(t, h, &p, remote);
            t += self.off(0, 1_500);
        }
        let tf = t + self.match_gap();
        let path = self.drop_path(&exe);
        self.file(tf, h, &p, FileAction::Creation, path, false);
    }

    /// The file is excluded; sometimes a good file follows and still matches
    /// (a failed stage-2 event doesn't touch the pending sequence).
    pub(super) fn nm_excluded_file(&mut self, h: usize) {
        let t0 = self.clock;
        let exe = self.implant_exe();
        let p = self.scenario_proc(h, &exe, t0);
        let t = t0 + self.off(1, 1_000);
        let remote = Some(self.public_dest());
        self.attempt(t, h, &p, remote);
        let tf = t + self.match_gap();
        let path = self.excluded_path(&exe);
        self.file(tf, h, &p, FileAction::Creation, path, false);
        if self.rng.chance(1, 3) {
            let tf2 = tf + self.off(0, 3_000);
            let path2 = self.drop_path(&exe);
            let completes = within(t, tf2);
            self.file(tf2, h, &p, FileAction::Creation, path2, completes);
        }
    }

    /// The process is excluded (by name or executable). `/tmp/terraform` is
    /// excluded only for `/tmp/terraform-provider*` files.
    pub(super) fn nm_excluded_proc(&mut self, h: usize) {
        let t0 = self.clock;
        let terraform = self.rng.chance(1, 5);
        let exe = if terraform {
            "/tmp/terraform".to_string()
        } else if !self.rd() && self.rng.chance(1, 5) {
            (*self.rng.pick(EXCLUDED_PROCS_MIXED)).to_string()
        } else {
            (*self.rng.pick(EXCLUDED_PROCS)).to_string()
        };
        let p = self.scenario_proc(h, &exe, t0);
        let t = t0 + self.off(1, 1_000);
        let remote = Some(self.public_dest());
        self.attempt(t, h, &p, remote);
        let tf = t + self.match_gap();
        if terraform {
            let mut path = String::from("/tmp/terraform-provider-");
            path.push_str(self.rng.pick_str(&[
                "aws_v5.31.0_x5",
                "random_v3.6.0_x5",
                "null_v3.2.2_x5",
            ]));
            self.file(tf, h, &p, FileAction::Creation, path, false);
            if self.rng.chance(1, 3) {
                let tf2 = tf + self.off(0, 2_000);
                let completes = within(t, tf2);
                let path2 = "/tmp/.terraform.lock.hcl".to_string();
                self.file(tf2, h, &p, FileAction::Creation, path2, completes);
            }
        } else {
            let path = self.drop_path(&exe);
            self.file(tf, h, &p, FileAction::Creation, path, false);
        }
    }

    /// The executable is just outside the writable patterns (or, in
    /// Realistic with `mixed`, differs from them by case).
    pub(super) fn nm_outside(&mut self, h: usize, mixed: bool) {
        let t0 = self.clock;
        let exe = if mixed {
            *self.rng.pick(NEAR_MISS_EXES_MIXED)
        } else {
            *self.rng.pick(NEAR_MISS_EXES)
        };
        let p = self.scenario_proc(h, exe, t0);
        let t = t0 + self.off(1, 1_000);
        let remote = Some(self.public_dest());
        self.attempt(t, h, &p, remote);
        let tf = t + self.match_gap();
        let path = self.drop_path("/tmp/x");
        self.file(tf, h, &p, FileAction::Creation, path, false);
    }

    /// A child process (another entity id) creates the file.
    pub(super) fn nm_child(&mut self, h: usize) {
        let t0 = self.clock;
        let exe = self.implant_exe();
        let p = self.scenario_proc(h, &exe, t0);
        let t = t0 + self.off(1, 1_000);
        let remote = Some(self.public_dest());
        self.attempt(t, h, &p, remote);
        let tc = t + self.off(0, 1_000);
        let child_exe = self.implant_exe();
        let user = p.user;
        let c = self.new_proc(h, Launch::new(&child_exe, "", user, Role::Scenario), &p, tc);
        self.started(tc, h, &c);
        let tf = tc + self.off(0, 2_000);
        let path = self.drop_path(&child_exe);
        self.file(tf, h, &c, FileAction::Creation, path, false);
    }

    /// The file comes before the network event, and nothing after it.
    pub(super) fn nm_wrong_order(&mut self, h: usize) {
        let t0 = self.clock;
        let exe = self.implant_exe();
        let p = self.scenario_proc(h, &exe, t0);
        let tf = t0 + self.off(1, 1_000);
        let path = self.drop_path(&exe);
        self.file(tf, h, &p, FileAction::Creation, path, false);
        let t = tf + self.off(0, 3_000);
        let remote = Some(self.public_dest());
        self.attempt(t, h, &p, remote);
    }

    /// Right process and timing, wrong actions: an accepted connection, a
    /// disconnect or a DNS lookup instead of `connection_attempted`, or a
    /// modification / deletion / rename instead of `creation`.
    pub(super) fn nm_other_actions(&mut self, h: usize) {
        let t0 = self.clock;
        let exe = self.implant_exe();
        let p = self.scenario_proc(h, &exe, t0);
        let t = t0 + self.off(1, 1_000);
        let tf = t + self.match_gap();
        let path = self.drop_path(&exe);
        if self.rng.chance(1, 2) {
            match self.rng.below(3) {
                0 | 1 => {
                    let action = if self.rng.chance(1, 2) {
                        NetAction::Accepted
                    } else {
                        NetAction::Disconnect
                    };
                    let remote = Some(self.public_dest());
                    let remote_port = self.eph_port();
                    self.push(
                        t,
                        h,
                        &p,
                        Spec::Net {
                            action,
                            remote,
                            remote_port,
                            local_port: 443,
                        },
                        false,
                    );
                }
                _ => self.dns_event(t, h, &p),
            }
            self.file(tf, h, &p, FileAction::Creation, path, false);
        } else {
            let remote = Some(self.public_dest());
            self.attempt(t, h, &p, remote);
            let action = *self.rng.pick(&[
                FileAction::Modification,
                FileAction::Deletion,
                FileAction::Rename,
            ]);
            self.file(tf, h, &p, action, path, false);
        }
    }

    /// The same entity id on two hosts: the join key is the pair, so no match.
    pub(super) fn nm_other_host(&mut self, h: usize) {
        let n = self.hosts.len();
        if n < 2 {
            return self.nm_late(h);
        }
        let t0 = self.clock;
        let exe = self.implant_exe();
        let p = self.scenario_proc(h, &exe, t0);
        let t = t0 + self.off(1, 1_000);
        let remote = Some(self.public_dest());
        self.attempt(t, h, &p, remote);
        let other = (h + 1 + self.rng.below(n as u64 - 1) as usize) % n;
        let q = self.hosts[other].clone_foreign(&p);
        let tf = t + self.match_gap();
        let path = self.drop_path(&exe);
        self.file(tf, other, &q, FileAction::Creation, path, false);
    }
}
