//! The executables, paths and names scenarios and background processes
//! use, grouped by how the rule treats them (matched, excluded, lookalikes
//! that are not excluded, just outside a pattern), with the mixed-case ones
//! Realistic adds apart.

/// Directories under the rule's writable patterns (all lowercase).
pub(super) const WRITABLE_DIRS: &[&str] = &[
    "/tmp/",
    "/tmp/.x/",
    "/tmp/.cache/",
    "/tmp/.font-unix/",
    "/dev/shm/",
    "/dev/shm/.s/",
    "/var/tmp/",
    "/var/tmp/.update/",
    "/run/user/1000/",
    "/run/user/0/",
    "/var/run/user/1000/",
    "/var/log/",
    "/var/log/.journal/",
    "/boot/",
    "/boot/.efi/",
];
/// Real-world writable directories with capitals (Realistic only).
pub(super) const WRITABLE_DIRS_MIXED: &[&str] = &[
    "/tmp/.X11-unix/",
    "/tmp/.ICE-unix/",
    "/tmp/.mount_AppImgX3/",
];

pub(super) const IMPLANT_NAMES: &[&str] = &[
    "agent",
    "poseidon",
    "athena",
    "beacon",
    "kworkerd",
    "sshd",
    "update",
    "dbus-daemon",
    "systemd-helper",
    "x",
    "a.out",
    "python3",
    "node",
    "main",
    "installer",
    "setup",
    "runner",
    "svc",
    "job",
    "apache2",
    "kthreadd",
    "crond",
    "ld-helper",
    ".hidden",
];
pub(super) const IMPLANT_ARGS: &[&str] = &[
    "",
    "",
    "-d",
    "--daemon",
    "-c config.json",
    "--interval 5",
    "-s https://cdn-update.net/api",
];

/// Benign programs that run from writable paths (background noise).
pub(super) const BENIGN_WRITABLE: &[&str] = &[
    "/tmp/go-build2736415027/b001/exe/main",
    "/tmp/.mount_obsidiwx3k/obsidian",
    "/tmp/_mei41230/app",
    "/var/tmp/installer/setup",
    "/dev/shm/runner/bin/task",
    "/tmp/vagrant-shell",
    "/run/user/1000/gvfsd-helper",
    "/var/tmp/ansible-tmp-1763800000/ansiballz",
    "/tmp/bazel-out/k8-fastbuild/bin/server",
    "/var/log/.agent/collector",
    "/boot/grub/install-helper",
    "/var/run/user/1000/snap-helper",
    "/tmp/cargo-install3xk/release/tool",
];
pub(super) const BENIGN_WRITABLE_MIXED: &[&str] = &[
    "/tmp/.mount_ObsidiWx3k/obsidian",
    "/tmp/_MEI41230/app",
    "/tmp/.mount_Cursor8sK2/cursor",
];

/// Stage-2 process exclusions of the rule (all reachable from writable paths).
pub(super) const EXCLUDED_PROCS: &[&str] = &[
    "/tmp/podman",
    "/var/tmp/minikube",
    "/tmp/jdk-17/bin/java",
    "/dev/shm/aws-k8s-agent",
    "/run/user/1000/grafana",
    "/tmp/postman/postman",
    "/var/log/logrotate",
    "/tmp/token_handler",
    "/tmp/.sentry-cli.exe",
    "/tmp/.sentry-cli-2.31.0.exe",
    "/tmp/.sentry-cli/bin/run.exe",
];
/// `process.executable :` is case-insensitive, so these are excluded too.
pub(super) const EXCLUDED_PROCS_MIXED: &[&str] =
    &["/tmp/Token_Handler", "/tmp/.Sentry-CLI-x64.exe"];
/// Near-lookalikes of the exclusions: not excluded, so they alert.
pub(super) const LOOKALIKE_PROCS: &[&str] = &[
    "/tmp/javaw",
    "/tmp/podman-remote",
    "/var/tmp/grafana-server",
    "/tmp/token_handler2",
    "/tmp/sentry-cli.exe",
    "/tmp/.sentry-cli.exe.bak",
    "/dev/shm/minikube-linux-amd64",
    "/tmp/postman2",
    "/var/tmp/aws-k8s-agent.sh",
    "/var/tmp/token_handler",
];
/// Case differs from the `in` list (case-sensitive in Elasticsearch): they alert.
pub(super) const LOOKALIKE_PROCS_MIXED: &[&str] =
    &["/tmp/Java", "/tmp/PODMAN", "/run/user/1000/Grafana"];

/// Executables just outside the writable patterns.
pub(super) const NEAR_MISS_EXES: &[&str] = &[
    "/tmpx/agent",
    "/usr/tmp/agent",
    "/home/ubuntu/tmp/agent",
    "/var/run/usr/1000/agent",
    "/run/users/1000/agent",
    "/var/logs/agent",
    "/dev/shmem/agent",
    "/bootstrap/agent",
    "/opt/tmp/agent",
    "/var/tmpfs/agent",
    "/run/user1000/agent",
    "tmp/agent",
    "./tmp/agent",
    "//tmp/agent",
    "/dev/shm",
    "/var/run/user",
    "/srv/tmp/agent",
    "/snap/bin/agent",
    "/usr/local/bin/agent",
];
pub(super) const NEAR_MISS_EXES_MIXED: &[&str] = &[
    "/TMP/agent",
    "/Tmp/.x/agent",
    "/dev/SHM/agent",
    "/var/TMP/agent",
    "/Run/user/1000/agent",
    "/BOOT/agent",
    "/TMP/token_handler",
];

/// Files an implant drops (every name has an extension).
pub(super) const DROP_NAMES: &[&str] = &[
    "task.sh",
    "payload.bin",
    "out.txt",
    "cmd.py",
    "loader.so",
    "config.json",
    "update.tar.gz",
    "stage2.elf",
    "result.log",
    "job.dat",
    "beacon.cfg",
    "implant.bin",
    "run.sh",
    "id_rsa.pub",
    "cron.sh",
    "libc.so.6",
    "kit.tar",
    "data.enc",
];
/// Names without an extension (`file.extension` absent): Realistic only.
pub(super) const DROP_NAMES_NO_EXT: &[&str] = &[
    "authorized_keys",
    "crontab",
    "kdevtmpfsi",
    "sshd",
    ".bashrc",
];
/// Lookalikes of the file exclusions that are not excluded.
pub(super) const DROP_LOOKALIKES: &[&str] = &[
    "xtmp.log",
    "a.tmp2",
    "b.journal",
    "c.db-journal2",
    "d.lock",
    "temp.sh",
    "tm.sh",
    "t.mp",
    "notmp.txt",
    "sqlite-journal.txt",
    "x.lockfiles",
    "x.tmpx",
    "journal.db",
];
/// Case differs from the case-sensitive exclusions: not excluded in Elasticsearch.
pub(super) const DROP_LOOKALIKES_MIXED: &[&str] = &[
    "TMP_task.sh",
    "Tmp1234",
    "cache.TMP",
    "x.Lockfile",
    "j.DB-JOURNAL",
];
/// Paths near the excluded paths, not excluded.
pub(super) const DROP_PATH_LOOKALIKES: &[&str] = &[
    "/loki/wal2/000012.seg",
    "/opt/rapid7/nexpose2/nsc.log",
    "/usr/local/ltech/agent.json",
    "/var/cache/yum.d/repomd.xml",
    "/run/aws-node/ipam.json",
    "/run/systemd/journal/streams/8:1234.stream",
    "/var/lib/cloudendure/agent_keystore_temp.bak",
    "/tmp/terraform-provider-aws_v5.31.0_x5",
];
pub(super) const DROP_PATH_LOOKALIKES_MIXED: &[&str] = &[
    "/dev/shm/.org.chromium.chromium.q7ZpX1",
    "/Loki/wal/000013",
    "/var/cache/YUM/repomd.xml",
];
pub(super) const DROP_DIRS: &[&str] = &[
    "/tmp/",
    "/dev/shm/",
    "/var/tmp/",
    "/tmp/.x/",
    "/etc/cron.d/",
    "/home/ubuntu/.config/autostart/",
    "/etc/systemd/system/",
    "/usr/local/bin/",
    "/root/.ssh/",
];
pub(super) const DEFAULT_EXTS: &[&str] = &["txt", "sh", "bin", "log", "py", "json"];
pub(super) const EXCLUDED_EXTS: &[&str] = &["sqlite-journal", "db-journal", "lockfile", "tmp"];

pub(super) const DNS_NAMES: &[&str] = &[
    "api.github.com",
    "packages.ubuntu.com",
    "s3.amazonaws.com",
    "registry-1.docker.io",
    "artifacts.elastic.co",
    "time.google.com",
    "pypi.org",
    "files.pythonhosted.org",
    "ocsp.digicert.com",
    "cdn.jsdelivr.net",
    "sts.amazonaws.com",
    "cdn-update.net",
];
pub(super) const C2_PORTS: &[u16] = &[443, 443, 443, 80, 8443, 8080, 4444, 7443, 53, 8888, 9001];
pub(super) const LOG_NAMES: &[&str] = &[
    "access", "error", "app", "syslog", "auth", "kern", "daemon", "audit",
];
