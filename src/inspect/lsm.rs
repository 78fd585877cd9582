//! Linux security modules (LSMs) and the label a process carries in them.
//!
//! SELinux and AppArmor are "major" LSMs: each gives every process a label (a security
//! context, a profile name) that decides what it may do. systemd sets it at the exec
//! (`SELinuxContext=`, `AppArmorProfile=` in systemd.exec(5)) by writing the label to
//! `/proc/self/attr/exec` (AppArmor: `aa_change_onexec()`), and skips the setting when the
//! module is not active. The label a process has is in `/proc/PID/attr/current`, which
//! belongs to the first major LSM, and (Linux 5.1+) in the per-module files
//! `/proc/PID/attr/apparmor/current`, `/proc/PID/attr/smack/current`. An AppArmor label reads
//! `NAME (enforce)`, `NAME (complain)` or `unconfined`; a SELinux one `user:role:type:level`.
//!
//! Which modules are active: `/sys/kernel/security/lsm` (securityfs, Linux 4.15+; a
//! comma-separated list), and for AppArmor `/sys/module/apparmor/parameters/enabled` (`Y`).

use std::path::{Path, PathBuf};

use serde::Serialize;

/// The LSM state of one process and of the kernel, as read; every field is what one file
/// said, or why it could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LsmState {
    /// The active modules, from `/sys/kernel/security/lsm`; `None` when it cannot be read
    /// (securityfs not mounted, or a kernel before 4.15).
    pub active: Option<Vec<String>>,
    /// `/sys/module/apparmor/parameters/enabled`: `Some(true)` for `Y`; `None` when the file
    /// is missing (AppArmor is not built into this kernel).
    pub apparmor_enabled: Option<bool>,
    /// The process's AppArmor label, from `/proc/PID/attr/apparmor/current`, or from
    /// `/proc/PID/attr/current` when AppArmor is the module that owns it.
    pub apparmor_label: Option<String>,
    /// The process's label in the first major module, `/proc/PID/attr/current`.
    pub current: Option<String>,
    /// Why `current` could not be read (EINVAL: no module gives processes a label).
    pub current_error: Option<String>,
}

impl LsmState {
    /// Whether `module` (`apparmor`, `selinux`) is active, as far as the kernel shows.
    pub fn is_active(&self, module: &str) -> bool {
        let listed = self
            .active
            .as_ref()
            .is_some_and(|l| l.iter().any(|m| m == module));
        listed || (module == "apparmor" && self.apparmor_enabled == Some(true))
    }

    /// The files read and what they said, for the evidence of a NOT CHECKABLE verdict.
    pub fn evidence(&self) -> String {
        let lsm = match &self.active {
            Some(list) if list.is_empty() => "/sys/kernel/security/lsm is empty".to_owned(),
            Some(list) => format!("/sys/kernel/security/lsm: {}", list.join(",")),
            None => {
                "/sys/kernel/security/lsm cannot be read (securityfs is not mounted)".to_owned()
            }
        };
        let apparmor = match self.apparmor_enabled {
            Some(true) => "/sys/module/apparmor/parameters/enabled: Y",
            Some(false) => "/sys/module/apparmor/parameters/enabled: N",
            None => "no /sys/module/apparmor: AppArmor is not built into this kernel",
        };
        let current = match (&self.current, &self.current_error) {
            (Some(label), _) => format!("/proc/PID/attr/current: {label}"),
            (None, Some(error)) => format!("/proc/PID/attr/current: {error}"),
            (None, None) => "/proc/PID/attr/current cannot be read".to_owned(),
        };
        format!("{lsm}; {apparmor}; {current}")
    }
}

/// Read the LSM state of process `pid` under `proc`, and of the kernel under `sys`. Nothing
/// here fails: a file that cannot be read is a fact too (no module, no securityfs).
pub fn read_lsm(proc: &Path, sys: &Path, pid: u32) -> LsmState {
    let text = |path: PathBuf| std::fs::read_to_string(path);
    let label = |raw: String| raw.trim_end_matches(['\n', '\0']).to_owned();
    let active = text(sys.join("kernel/security/lsm")).ok().map(|s| {
        s.trim()
            .split(',')
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    });
    let apparmor_enabled = text(sys.join("module/apparmor/parameters/enabled"))
        .ok()
        .map(|s| s.trim() == "Y");
    let attr = proc.join(pid.to_string()).join("attr");
    let (current, current_error) = match text(attr.join("current")) {
        Ok(raw) => (Some(label(raw)), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let own = text(attr.join("apparmor/current")).ok().map(label);
    let first_major = active.as_ref().and_then(|l| {
        l.iter()
            .find(|m| ["selinux", "smack", "apparmor", "tomoyo"].contains(&m.as_str()))
            .cloned()
    });
    let apparmor_owns_current = match &first_major {
        Some(m) => m == "apparmor",
        None => apparmor_enabled == Some(true),
    };
    let apparmor_label = own.or_else(|| current.clone().filter(|_| apparmor_owns_current));
    LsmState {
        active,
        apparmor_enabled,
        apparmor_label,
        current,
        current_error,
    }
}

/// An AppArmor label split into the profile name and its mode: `NAME (enforce)` is
/// `("NAME", Some("enforce"))`, `unconfined` is `("unconfined", None)`.
pub fn apparmor_profile(label: &str) -> (&str, Option<&str>) {
    match label.strip_suffix(')').and_then(|l| l.rsplit_once(" (")) {
        Some((name, mode)) => (name, Some(mode)),
        None => (label, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        dir
    }

    #[test]
    fn an_apparmor_kernel_shows_the_profile_and_its_mode() {
        let t = tree(&[
            (
                "sys/kernel/security/lsm",
                "lockdown,capability,landlock,yama,apparmor,bpf\n",
            ),
            ("sys/module/apparmor/parameters/enabled", "Y\n"),
            ("proc/42/attr/current", "demo (enforce)\n"),
            ("proc/42/attr/apparmor/current", "demo (enforce)\n"),
        ]);
        let got = read_lsm(&t.path().join("proc"), &t.path().join("sys"), 42);
        assert!(got.is_active("apparmor"));
        assert!(!got.is_active("selinux"));
        assert_eq!(got.apparmor_label.as_deref(), Some("demo (enforce)"));
        assert_eq!(
            apparmor_profile("demo (enforce)"),
            ("demo", Some("enforce"))
        );
        assert_eq!(apparmor_profile("unconfined"), ("unconfined", None));
    }

    #[test]
    fn a_kernel_without_a_major_lsm_says_why_there_is_no_label() {
        let t = tree(&[("proc/42/status", "")]);
        let got = read_lsm(&t.path().join("proc"), &t.path().join("sys"), 42);
        assert!(!got.is_active("apparmor"));
        assert_eq!(got.apparmor_label, None);
        assert!(got.evidence().starts_with(
            "/sys/kernel/security/lsm cannot be read (securityfs is not mounted); \
             no /sys/module/apparmor: AppArmor is not built into this kernel; \
             /proc/PID/attr/current: "
        ));
    }

    /// With SELinux first, attr/current is SELinux's: it is not an AppArmor label.
    #[test]
    fn the_shared_file_is_the_first_major_modules() {
        let t = tree(&[
            ("sys/kernel/security/lsm", "capability,selinux\n"),
            ("proc/42/attr/current", "system_u:system_r:init_t:s0\0"),
        ]);
        let got = read_lsm(&t.path().join("proc"), &t.path().join("sys"), 42);
        assert!(got.is_active("selinux"));
        assert_eq!(got.apparmor_label, None);
        assert_eq!(got.current.as_deref(), Some("system_u:system_r:init_t:s0"));
    }
}
