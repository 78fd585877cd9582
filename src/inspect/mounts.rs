//! Mount namespaces: what a unit's file system looks like, compared with the host's.
//!
//! Each process lives in a mount namespace: its own table of mounts (mount_namespaces(7)).
//! systemd builds a private one for a unit that uses `PrivateTmp=`, `PrivateDevices=`,
//! `ProtectSystem=`, `ProtectHome=`, `ReadOnlyPaths=`, `InaccessiblePaths=`, `TemporaryFileSystem=`
//! ... (systemd.exec(5), "Sandboxing"): a tmpfs or a private directory over `/tmp`, a fresh
//! tmpfs on `/dev`, read-only remounts, and an empty inaccessible directory bound over `/home`.
//!
//! `/proc/PID/mountinfo` (proc(5)) lists that table, one mount a line:
//!
//! ```text
//! 279 250 0:43 /systemd-private-…-heat.service-1fKjeY/tmp /tmp rw,nosuid,nodev shared:65 master:2 - tmpfs tmpfs rw,size=2468412k
//! (1) (2) (3)  (4)                                         (5)  (6)             (7)               (8)(9)  (10)  (11)
//! ```
//!
//! (1) mount ID, (2) parent ID, (3) major:minor of the file system, (4) the directory of that
//! file system mounted here (not `/` for bind mounts), (5) mount point, (6) per-mount options,
//! (7) optional propagation fields, (8) separator, (9) file system type, (10) source,
//! (11) super block options. Paths escape space, tab, newline and backslash as `\ooo`.
//!
//! Mount IDs are per namespace, so comparing two namespaces goes by what a mount *is*: mount
//! point, file system (major:minor, a global device number, so a new tmpfs differs from the
//! host's even with identical options), its root directory, type, source and super block
//! options. Two mounts equal by that but with different per-mount options (`ro`, `nosuid`)
//! are the same file system, remounted: `ProtectSystem=` makes `/` read-only that way.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::{read_text, ReadError};

/// One line of `/proc/PID/mountinfo`, unescaped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mount {
    /// Mount ID (unique within the namespace only).
    pub mount_id: u32,
    /// The parent mount's ID.
    pub parent_id: u32,
    /// `major:minor` of the file system (the `st_dev` of its files).
    pub dev: String,
    /// The directory of the file system that is mounted (`/` unless a bind mount).
    pub root: String,
    /// Where it is mounted, relative to the process's root.
    pub mount_point: String,
    /// Per-mount options (`ro,nosuid,relatime`).
    pub options: String,
    /// Optional fields (`shared:65`, `master:2`, ...).
    pub propagation: Vec<String>,
    /// File system type (`tmpfs`, `ext4`, ...).
    pub fs_type: String,
    /// The source (`/dev/vda`, `tmpfs`, ...).
    pub source: String,
    /// Super block options (shared by every mount of the file system).
    pub super_options: String,
}

impl Mount {
    /// What makes two mounts the same file system at the same place, across namespaces.
    fn identity(&self) -> (&str, &str, &str, &str, &str, &str) {
        (
            &self.mount_point,
            &self.dev,
            &self.root,
            &self.fs_type,
            &self.source,
            &self.super_options,
        )
    }

    fn is_read_only(&self) -> bool {
        self.options.split(',').any(|o| o == "ro")
    }
}

/// Parse the text of a mountinfo file; `path` is only for error messages.
pub fn parse_mountinfo(text: &str, path: &Path) -> Result<Vec<Mount>, ReadError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            parse_line(line).ok_or_else(|| ReadError::Malformed {
                path: path.to_owned(),
                line: i + 1,
                detail: format!("not a mountinfo line: {line:?}"),
            })
        })
        .collect()
}

fn parse_line(line: &str) -> Option<Mount> {
    let (head, tail) = line.split_once(" - ")?;
    let mut head = head.split(' ');
    let mount_id = head.next()?.parse().ok()?;
    let parent_id = head.next()?.parse().ok()?;
    let dev = head.next()?.to_owned();
    let root = unescape(head.next()?);
    let mount_point = unescape(head.next()?);
    let options = head.next()?.to_owned();
    let propagation = head.map(str::to_owned).collect();
    let mut tail = tail.splitn(3, ' ');
    let fs_type = unescape(tail.next()?);
    let source = unescape(tail.next()?);
    let super_options = unescape(tail.next().unwrap_or(""));
    Some(Mount {
        mount_id,
        parent_id,
        dev,
        root,
        mount_point,
        options,
        propagation,
        fs_type,
        source,
        super_options,
    })
}

/// Undo the kernel's `\ooo` octal escapes (`\040` space, `\011` tab, `\012` newline,
/// `\134` backslash; see `mangle()` in fs/proc_namespace.c).
fn unescape(field: &str) -> String {
    if !field.contains('\\') {
        return field.to_owned();
    }
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).filter(|d| {
            bytes[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)) && d[0] <= b'3'
        });
        match octal {
            Some(d) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Read and parse `<proc_root>/<pid>/mountinfo`: the mount table of `pid`'s namespace, as
/// seen from its root directory.
pub fn read_mountinfo(proc_root: &Path, pid: u32) -> Result<Vec<Mount>, ReadError> {
    let path = proc_root.join(pid.to_string()).join("mountinfo");
    parse_mountinfo(&read_text(&path, Some(pid))?, &path)
}

/// Read and parse `<proc_root>/self/mountinfo`: sandgen's own mount table.
pub fn read_self_mountinfo(proc_root: &Path) -> Result<Vec<Mount>, ReadError> {
    let path = proc_root.join("self/mountinfo");
    parse_mountinfo(&read_text(&path, None)?, &path)
}

/// How one of the unit's mounts relates to the host's mount table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// The host has the same mount.
    Same,
    /// The host has nothing mounted at this point.
    Added,
    /// The host has a different file system (or directory of it) mounted at this point.
    Replaced {
        /// The host's (topmost) mount there.
        host: HostMount,
    },
    /// The same file system, with different per-mount options.
    Options {
        /// Options the unit's mount has and the host's lacks (`ro`, `nosuid`, ...).
        added: Vec<String>,
        /// Options the host's mount has and the unit's lacks.
        removed: Vec<String>,
    },
}

/// A host mount, in short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostMount {
    /// Where it is mounted.
    pub mount_point: String,
    /// File system type.
    pub fs_type: String,
    /// Source.
    pub source: String,
    /// Mounted directory of the file system.
    pub root: String,
    /// Per-mount options.
    pub options: String,
}

impl From<&Mount> for HostMount {
    fn from(m: &Mount) -> Self {
        Self {
            mount_point: m.mount_point.clone(),
            fs_type: m.fs_type.clone(),
            source: m.source.clone(),
            root: m.root.clone(),
            options: m.options.clone(),
        }
    }
}

/// One mount of the unit's namespace, with how it differs from the host's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MountReport {
    /// Mount ID in the unit's namespace (to draw the tree).
    pub id: u32,
    /// Parent mount ID in the unit's namespace.
    pub parent: u32,
    /// Where it is mounted.
    pub mount_point: String,
    /// File system type.
    pub fs_type: String,
    /// Source.
    pub source: String,
    /// The directory of the file system that is mounted (`/` unless a bind mount).
    pub root: String,
    /// Per-mount options.
    pub options: String,
    /// Super block options.
    pub super_options: String,
    /// Whether it differs from the host's mount table at all.
    pub differs: bool,
    /// How it differs.
    pub difference: Difference,
    /// What the difference most likely is, in words (`private /tmp`, `read-only`, ...).
    pub note: Option<String>,
}

/// The unit's mount table compared with the host's.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct MountComparison {
    /// Every mount of the unit's namespace, in mount order.
    #[serde(rename = "mounts")]
    pub mounts: Vec<MountReport>,
    /// Host mounts at mount points where the unit has nothing mounted.
    #[serde(rename = "mounts_host_only")]
    pub host_only: Vec<HostMount>,
}

/// Compare a unit's mount table with the host's (both as parsed by [`parse_mountinfo`]).
pub fn compare(unit: &[Mount], host: &[Mount]) -> MountComparison {
    let mut unused: HashMap<_, Vec<usize>> = HashMap::new();
    for (i, m) in host.iter().enumerate() {
        unused.entry(m.identity()).or_default().push(i);
    }
    let mut used = HashSet::new();
    let mounts = unit
        .iter()
        .map(|m| {
            let matched = unused.get_mut(&m.identity()).and_then(|list| {
                // Prefer the host mount with the same options, then the first.
                let pos = list
                    .iter()
                    .position(|&i| host[i].options == m.options)
                    .or((!list.is_empty()).then_some(0))?;
                Some(list.remove(pos))
            });
            let difference = match matched {
                Some(i) => {
                    used.insert(i);
                    option_difference(&host[i].options, &m.options)
                }
                None => match top_mount_at(host, &m.mount_point) {
                    Some(h) => Difference::Replaced { host: h.into() },
                    None => Difference::Added,
                },
            };
            let mut report = MountReport {
                id: m.mount_id,
                parent: m.parent_id,
                mount_point: m.mount_point.clone(),
                fs_type: m.fs_type.clone(),
                source: m.source.clone(),
                root: m.root.clone(),
                options: m.options.clone(),
                super_options: m.super_options.clone(),
                differs: difference != Difference::Same,
                difference,
                note: None,
            };
            report.note = note(&report, m);
            report
        })
        .collect();
    let unit_points: HashSet<&str> = unit.iter().map(|m| m.mount_point.as_str()).collect();
    let host_only = host
        .iter()
        .enumerate()
        .filter(|(i, m)| !used.contains(i) && !unit_points.contains(m.mount_point.as_str()))
        .map(|(_, m)| m.into())
        .collect();
    MountComparison { mounts, host_only }
}

fn option_difference(host: &str, unit: &str) -> Difference {
    let host_set: Vec<&str> = host.split(',').collect();
    let unit_set: Vec<&str> = unit.split(',').collect();
    let added: Vec<String> = unit_set
        .iter()
        .filter(|o| !host_set.contains(o))
        .map(|o| (*o).to_owned())
        .collect();
    let removed: Vec<String> = host_set
        .iter()
        .filter(|o| !unit_set.contains(o))
        .map(|o| (*o).to_owned())
        .collect();
    if added.is_empty() && removed.is_empty() {
        Difference::Same
    } else {
        Difference::Options { added, removed }
    }
}

/// The mount visible at `mount_point`: of the mounts stacked there, the one no other mount
/// there is mounted on.
fn top_mount_at<'a>(table: &'a [Mount], mount_point: &str) -> Option<&'a Mount> {
    top_of_stack(
        table,
        |m| (m.mount_point.as_str(), m.mount_id, m.parent_id),
        mount_point,
    )
}

/// Of the entries of `table` mounted at `mount_point`, the one no other entry there is
/// mounted on; `key` gives an entry's mount point, ID and parent ID.
fn top_of_stack<'a, T>(
    table: &'a [T],
    key: impl Fn(&T) -> (&str, u32, u32),
    mount_point: &str,
) -> Option<&'a T> {
    let stack: Vec<&T> = table.iter().filter(|m| key(m).0 == mount_point).collect();
    stack
        .iter()
        .rev()
        .find(|m| !stack.iter().any(|o| key(o).2 == key(m).1))
        .copied()
}

/// Name the sandboxing a differing mount most likely comes from (systemd.exec(5)).
fn note(report: &MountReport, mount: &Mount) -> Option<String> {
    if !report.differs {
        return None;
    }
    let point = mount.mount_point.as_str();
    // systemd binds an empty, mode 000 directory (or file, device, ...) from
    // /run/systemd/inaccessible/ (/run/host/inaccessible/ in a container) over paths it hides.
    if mount.root.contains("/inaccessible/") {
        return Some("made inaccessible".to_owned());
    }
    // PrivateTmp= binds /tmp/systemd-private-<boot>-<unit>-<random>/tmp over /tmp and
    // /var/tmp/systemd-private-.../tmp over /var/tmp.
    if mount.root.contains("/systemd-private-") && (point == "/tmp" || point == "/var/tmp") {
        return Some(format!("private {point}"));
    }
    let new_fs = matches!(
        report.difference,
        Difference::Added | Difference::Replaced { .. }
    );
    let read_only = if mount.is_read_only() {
        ", read-only"
    } else {
        ""
    };
    if new_fs && point == "/dev" && mount.fs_type == "tmpfs" {
        return Some(format!("private /dev{read_only}"));
    }
    if new_fs && mount.fs_type == "tmpfs" && mount.root == "/" {
        return Some(format!("new tmpfs{read_only}"));
    }
    if new_fs && mount.root != "/" {
        return Some(format!("bind mount{read_only}"));
    }
    match &report.difference {
        Difference::Options { added, removed } => {
            let mut words = Vec::new();
            if added.iter().any(|o| o == "ro") {
                words.push("read-only".to_owned());
            } else if added.iter().any(|o| o == "rw") {
                words.push("writable".to_owned());
            }
            let rest: Vec<String> = added
                .iter()
                .filter(|o| *o != "ro" && *o != "rw")
                .map(|o| format!("+{o}"))
                .chain(
                    removed
                        .iter()
                        .filter(|o| *o != "ro" && *o != "rw")
                        .map(|o| format!("-{o}")),
                )
                .collect();
            if !rest.is_empty() {
                words.push(rest.join(","));
            }
            Some(words.join(" "))
        }
        _ => None,
    }
}

/// The widest SOURCE shown in [`MountComparison::render_tree`]: longer ones (bind mounts of
/// `systemd-private-<128-bit id>-...` directories) lose their middle.
const MAX_SOURCE: usize = 48;

/// `text`, shortened to `max` characters by replacing its middle with `…`.
fn ellipsize(text: &str, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max {
        return text.to_owned();
    }
    let head = (max - 1) / 2;
    let tail = max - 1 - head;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

impl MountComparison {
    /// The mount visible at exactly `mount_point` in the unit's namespace (the top of the
    /// stack there), if something is mounted there.
    pub fn top_at(&self, mount_point: &str) -> Option<&MountReport> {
        let hidden = self.hidden();
        let visible: Vec<&MountReport> = self
            .mounts
            .iter()
            .filter(|m| !hidden.contains(&m.id))
            .collect();
        top_of_stack(
            &visible,
            |m| (m.mount_point.as_str(), m.id, m.parent),
            mount_point,
        )
        .copied()
    }

    /// The mounts the unit can see: not covered by another mount at the same mount point,
    /// and not inside a covered one. A read-only bind of /sys over /sys (BindReadOnlyPaths=)
    /// leaves the old /sys and every mount under it in mountinfo, out of reach.
    pub fn visible(&self) -> impl Iterator<Item = &MountReport> {
        let hidden = self.hidden();
        self.mounts.iter().filter(move |m| !hidden.contains(&m.id))
    }

    /// The ids of the mounts hidden under another (see [`MountComparison::visible`]).
    fn hidden(&self) -> HashSet<u32> {
        let mut hidden: HashSet<u32> = self
            .mounts
            .iter()
            .filter(|m| {
                self.mounts
                    .iter()
                    .any(|o| o.parent == m.id && o.mount_point == m.mount_point)
            })
            .map(|m| m.id)
            .collect();
        let covers = |m: &MountReport| {
            self.mounts
                .iter()
                .any(|p| p.id == m.parent && p.mount_point == m.mount_point)
        };
        // Whatever is mounted inside a hidden mount is hidden too, to any depth; but not
        // the mount that covers it (its parent is the covered mount).
        loop {
            let more: Vec<u32> = self
                .mounts
                .iter()
                .filter(|m| hidden.contains(&m.parent) && !hidden.contains(&m.id) && !covers(m))
                .map(|m| m.id)
                .collect();
            if more.is_empty() {
                return hidden;
            }
            hidden.extend(more);
        }
    }

    /// The mount that holds `path` in the unit's namespace: the visible mount with the
    /// longest mount point that is `path` or a parent directory of it. Symlinks are not
    /// resolved: pass a canonical path.
    pub fn mount_for_path(&self, path: &str) -> Option<&MountReport> {
        let path = Path::new(path);
        self.mounts
            .iter()
            .filter(|m| path.starts_with(&m.mount_point))
            .map(|m| m.mount_point.as_str())
            .max_by_key(|p| Path::new(p).components().count())
            .and_then(|p| self.top_at(p))
    }

    /// Whether anything differs from the host's table.
    pub fn any_difference(&self) -> bool {
        self.mounts.iter().any(|m| m.differs) || !self.host_only.is_empty()
    }

    /// The unit's mount table as a tree, one mount a line, in the spirit of findmnt(8), with
    /// what differs from the host marked in the first column:
    /// `+` only in the unit, `!` replaces the host's mount there, `~` same file system with
    /// other options, `-` a host mount the unit lacks (listed at the end).
    pub fn render_tree(&self) -> String {
        struct Row {
            mark: char,
            target: String,
            fs_type: String,
            options: String,
            source: String,
            note: String,
        }
        let ids: HashSet<u32> = self.mounts.iter().map(|m| m.id).collect();
        let mut children: HashMap<u32, Vec<&MountReport>> = HashMap::new();
        let mut roots = Vec::new();
        for m in &self.mounts {
            if m.parent != m.id && ids.contains(&m.parent) {
                children.entry(m.parent).or_default().push(m);
            } else {
                roots.push(m);
            }
        }
        let mut rows = Vec::new();
        // Depth-first with an explicit stack: (mount, prefix for its children, its own branch).
        let mut stack: Vec<(&MountReport, String, String)> = roots
            .iter()
            .rev()
            .map(|m| (*m, String::new(), String::new()))
            .collect();
        while let Some((m, prefix, branch)) = stack.pop() {
            let mark = match m.difference {
                Difference::Same => ' ',
                Difference::Added => '+',
                Difference::Replaced { .. } => '!',
                Difference::Options { .. } => '~',
            };
            // findmnt's notation for a bind mount: the directory of the file system in [].
            let source = if m.root == "/" {
                m.source.clone()
            } else {
                format!("{}[{}]", m.source, m.root)
            };
            let source = ellipsize(&source, MAX_SOURCE);
            rows.push(Row {
                mark,
                target: format!("{branch}{}", m.mount_point),
                fs_type: m.fs_type.clone(),
                options: m.options.clone(),
                source,
                note: m.note.clone().unwrap_or_default(),
            });
            let kids = children.get(&m.id).map(Vec::as_slice).unwrap_or_default();
            for (i, kid) in kids.iter().enumerate().rev() {
                let last = i + 1 == kids.len();
                let branch = format!("{prefix}{}", if last { "└─" } else { "├─" });
                let next = format!("{prefix}{}", if last { "  " } else { "│ " });
                stack.push((kid, next, branch));
            }
        }
        for h in &self.host_only {
            rows.push(Row {
                mark: '-',
                target: h.mount_point.clone(),
                fs_type: h.fs_type.clone(),
                options: h.options.clone(),
                source: ellipsize(&h.source, MAX_SOURCE),
                note: "only on the host".to_owned(),
            });
        }
        let width = |f: fn(&Row) -> &str, title: &str| {
            rows.iter()
                .map(|r| f(r).chars().count())
                .chain([title.len()])
                .max()
                .unwrap_or(0)
        };
        let w_target = width(|r| &r.target, "TARGET");
        let w_fs = width(|r| &r.fs_type, "FSTYPE");
        let w_opts = width(|r| &r.options, "OPTIONS");
        let w_src = width(|r| &r.source, "SOURCE");
        let mut out = String::new();
        let mut line = |mark: char, t: &str, f: &str, o: &str, s: &str, n: &str| {
            let pad = |s: &str, w: usize| {
                format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())))
            };
            let text = format!(
                "{mark} {} {} {} {}{}",
                pad(t, w_target),
                pad(f, w_fs),
                pad(o, w_opts),
                pad(s, if n.is_empty() { 0 } else { w_src }),
                if n.is_empty() {
                    String::new()
                } else {
                    format!("  {n}")
                }
            );
            let _ = writeln!(out, "{}", text.trim_end());
        };
        line(' ', "TARGET", "FSTYPE", "OPTIONS", "SOURCE", "");
        for r in &rows {
            line(
                r.mark, &r.target, &r.fs_type, &r.options, &r.source, &r.note,
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(name: &str) -> Vec<Mount> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/inspect/mountinfo")
            .join(name);
        parse_mountinfo(&std::fs::read_to_string(&path).unwrap(), &path).unwrap()
    }

    #[test]
    fn parses_a_line_with_propagation_fields_and_escapes() {
        let line = "279 250 0:43 /systemd-private-x/tmp /tmp rw,nosuid,nodev shared:65 master:2 \
                    - tmpfs tmpfs rw,size=2468412k,nr_inodes=409600";
        let m = parse_line(line).unwrap();
        assert_eq!((m.mount_id, m.parent_id), (279, 250));
        assert_eq!(m.dev, "0:43");
        assert_eq!(m.root, "/systemd-private-x/tmp");
        assert_eq!(m.mount_point, "/tmp");
        assert_eq!(m.options, "rw,nosuid,nodev");
        assert_eq!(m.propagation, ["shared:65", "master:2"]);
        assert_eq!(m.fs_type, "tmpfs");
        assert_eq!(m.source, "tmpfs");
        assert_eq!(m.super_options, "rw,size=2468412k,nr_inodes=409600");

        let m = parse_line(r"30 1 8:1 / /mnt/a\040b\134c rw - ext4 /dev/sd\040a rw").unwrap();
        assert_eq!(m.mount_point, r"/mnt/a b\c");
        assert_eq!(m.source, "/dev/sd a");
        assert!(m.propagation.is_empty());
    }

    #[test]
    fn rejects_a_line_that_is_not_mountinfo_with_its_number() {
        let err = parse_mountinfo(
            "22 27 0:21 / /proc rw - proc proc rw\nhello\n",
            Path::new("/x"),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "/x:2: not a mountinfo line: \"hello\" (unexpected format: is this a Linux /proc or \
             cgroup file system?)"
        );
    }

    #[test]
    fn a_namespace_compared_with_itself_has_no_difference() {
        // Mount IDs differ between these two captures of the same table (a copied namespace).
        let host = fixture("host.txt");
        let cmp = compare(&host, &host);
        assert!(!cmp.any_difference());
        assert!(cmp.mounts.iter().all(|m| m.note.is_none()));
    }

    #[test]
    fn marks_what_unshare_changed_and_ignores_mount_ids() {
        // unshare -m: every mount got a new ID; tmpfs on /tmp and /dev, /work bound read-only,
        // a mode 000 tmpfs on /home.
        let cmp = compare(&fixture("unshare-sandboxed.txt"), &fixture("host.txt"));
        let at = |p: &str| cmp.top_at(p).unwrap();
        assert_eq!(at("/proc").difference, Difference::Same);
        assert_eq!(at("/").difference, Difference::Same);
        assert_eq!(at("/tmp").difference, Difference::Added);
        assert_eq!(at("/tmp").note.as_deref(), Some("new tmpfs"));
        assert!(matches!(at("/dev").difference, Difference::Replaced { .. }));
        assert_eq!(at("/dev").note.as_deref(), Some("private /dev"));
        assert_eq!(at("/work").note.as_deref(), Some("bind mount, read-only"));
        assert_eq!(at("/home").note.as_deref(), Some("new tmpfs, read-only"));
        let differing: Vec<&str> = cmp
            .mounts
            .iter()
            .filter(|m| m.differs)
            .map(|m| m.mount_point.as_str())
            .collect();
        assert_eq!(differing, ["/tmp", "/dev", "/work", "/home"]);
        // The host's /dev/shm and /dev/pts are still there, under the new /dev.
        assert_eq!(at("/dev/pts").difference, Difference::Same);
        assert!(cmp.host_only.is_empty());
    }

    #[test]
    fn recognises_systemds_sandbox_in_a_real_unit() {
        // heat.service under systemd 252 with PrivateTmp=, ProtectHome=, PrivateDevices=,
        // ProtectSystem=strict; the host is the container's systemd (PID 1 there).
        let cmp = compare(
            &fixture("nspawn-heat-service.txt"),
            &fixture("nspawn-systemd.txt"),
        );
        let at = |p: &str| cmp.top_at(p).unwrap();
        assert_eq!(
            at("/").difference,
            Difference::Options {
                added: vec!["ro".into(), "nosuid".into()],
                removed: vec!["rw".into()],
            }
        );
        assert_eq!(at("/").note.as_deref(), Some("read-only +nosuid"));
        assert_eq!(at("/tmp").note.as_deref(), Some("private /tmp"));
        assert_eq!(at("/var/tmp").note.as_deref(), Some("private /var/tmp"));
        for hidden in ["/home", "/root", "/run/user"] {
            assert_eq!(
                at(hidden).note.as_deref(),
                Some("made inaccessible"),
                "{hidden}"
            );
        }
        // PrivateDevices=: a new tmpfs on /dev (same options as the host's, another device).
        assert!(matches!(at("/dev").difference, Difference::Replaced { .. }));
        assert_eq!(at("/dev").note.as_deref(), Some("private /dev, read-only"));
        // The host's /tmp mount is still there, under the private one.
        let tmp: Vec<&MountReport> = cmp
            .mounts
            .iter()
            .filter(|m| m.mount_point == "/tmp")
            .collect();
        assert_eq!(tmp.len(), 2);
        assert_eq!(tmp[0].difference, Difference::Same);
        // What a file under /home lives on, for verify.
        assert_eq!(
            cmp.mount_for_path("/home/alice/.ssh")
                .unwrap()
                .note
                .as_deref(),
            Some("made inaccessible")
        );
        assert_eq!(cmp.mount_for_path("/usr/bin/sh").unwrap().mount_point, "/");
        // Mounts systemd made outside the service's namespace.
        let host_only: Vec<&str> = cmp
            .host_only
            .iter()
            .map(|h| h.mount_point.as_str())
            .collect();
        assert_eq!(
            host_only,
            [
                "/run/credentials/systemd-sysusers.service",
                "/run/credentials/systemd-tmpfiles-setup-dev.service",
                "/run/credentials/systemd-tmpfiles-setup.service"
            ]
        );
    }

    /// Compare `text` with the golden file `name`; `SANDGEN_BLESS=1` rewrites it.
    fn golden(name: &str, text: &str) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/inspect/mountinfo")
            .join(name);
        if std::env::var_os("SANDGEN_BLESS").is_some() {
            std::fs::write(&path, text).unwrap();
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run with SANDGEN_BLESS=1 to create it)",
                path.display()
            )
        });
        assert_eq!(
            text,
            want,
            "{} drifted (SANDGEN_BLESS=1 to accept)",
            path.display()
        );
    }

    #[test]
    fn renders_a_tree_a_person_can_read() {
        let cmp = compare(&fixture("unshare-sandboxed.txt"), &fixture("host.txt"));
        let tree = cmp.render_tree();
        let line = |target: &str| {
            tree.lines()
                .find(|l| l.contains(target))
                .unwrap_or_else(|| panic!("no {target} in\n{tree}"))
                .to_owned()
        };
        assert!(line("TARGET").starts_with("  TARGET "), "{tree}");
        assert!(line("├─/tmp ").starts_with("+ "), "{tree}");
        assert!(line("├─/tmp ").ends_with("  new tmpfs"), "{tree}");
        assert!(line("└─/dev ").starts_with("! │ "), "{tree}");
        assert!(line("│ ├─/dev/shm").starts_with("  "), "{tree}");
        assert!(line("/work ").contains(" /dev/vda[/work] "), "{tree}");
        assert!(line("└─/home").starts_with("+ "), "{tree}");
        // Every mount is one line, plus the header.
        assert_eq!(tree.lines().count(), cmp.mounts.len() + 1);
        golden("unshare-sandboxed.tree", &tree);

        let cmp = compare(
            &fixture("nspawn-heat-service.txt"),
            &fixture("nspawn-systemd.txt"),
        );
        let tree = cmp.render_tree();
        assert!(tree.lines().nth(1).unwrap().starts_with("~ / "), "{tree}");
        assert!(
            tree.lines()
                .any(|l| l.starts_with("- /run/credentials/systemd-sysusers.service")),
            "{tree}"
        );
        golden("nspawn-heat-service.tree", &tree);
    }

    #[test]
    fn a_mount_covered_at_its_own_mount_point_is_hidden_with_all_below_it() {
        // BindReadOnlyPaths=/sys under systemd 257: the rw /sys (162) stays in mountinfo
        // under the read-only bind (161 → 205), and so does the rw cgroupfs mounted in it.
        let unit = parse_mountinfo(
            "151 1 0:30 / / rw - ext4 /dev/vda rw\n\
             162 151 0:21 / /sys rw,nosuid - sysfs sysfs rw\n\
             164 162 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n\
             205 162 0:21 / /sys ro,nosuid - sysfs sysfs rw\n\
             187 205 0:26 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw\n",
            Path::new("mountinfo"),
        )
        .unwrap();
        let cmp = compare(&unit, &unit);
        let visible: Vec<u32> = cmp.visible().map(|m| m.id).collect();
        assert_eq!(visible, [151, 205, 187]);
        assert_eq!(cmp.top_at("/sys").map(|m| m.id), Some(205));
        assert_eq!(cmp.top_at("/sys/fs/cgroup").map(|m| m.id), Some(187));
        assert_eq!(cmp.mount_for_path("/sys/kernel").map(|m| m.id), Some(205));
    }
}
