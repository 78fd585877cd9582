//! The processes of a unit, and the PID namespace each one sees.
//!
//! Every process a unit starts stays in the unit's cgroup (or a child cgroup of it, for
//! units with `Delegate=`), so `cgroup.procs` of that cgroup and its children lists them all,
//! as host PIDs. A unit can also run in a PID namespace of its own (a container in a
//! service, or systemd itself running in one): `NSpid:` in `/proc/PID/status` lists the
//! process's PID in each namespace from the reader's inwards, and the `/proc/PID/ns/pid`
//! link names the namespace (`pid:[4026531836]`).

use std::io;
use std::path::Path;

use serde::Serialize;

use super::cgroup::{read_proc_cgroup, unit_directory};
use super::process::{parse_pid_list, status_field};
use super::{io_error, ReadError};

/// One process of a unit's cgroup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CgroupProcess {
    /// The PID in sandgen's PID namespace.
    pub pid: u32,
    /// The command name (comm, at most 15 bytes).
    pub comm: String,
    /// The PID in each PID namespace, outermost first: `[9540, 54]` is PID 54 inside a
    /// container. One entry when it shares sandgen's namespace.
    pub nspid: Vec<u32>,
    /// The process's PID namespace (`pid:[INODE]`), when readable.
    pub pid_namespace: Option<String>,
    /// The cgroup it is in, relative to the unit's (`""` for the unit's own, `worker` for a
    /// child cgroup).
    pub cgroup: String,
}

/// Every process in the cgroup directory `dir` and the cgroups below it, in cgroup order
/// then PID order. Processes that exit while being read are left out.
pub fn read_cgroup_processes(
    proc_root: &Path,
    dir: &Path,
) -> Result<Vec<CgroupProcess>, ReadError> {
    let mut out = Vec::new();
    let mut pending = vec![(dir.to_owned(), String::new())];
    while let Some((cgroup, rel)) = pending.pop() {
        let procs_path = cgroup.join("cgroup.procs");
        let procs = match std::fs::read_to_string(&procs_path) {
            Ok(text) => text,
            // A child cgroup removed while we walk: nothing left in it.
            Err(e) if e.kind() == io::ErrorKind::NotFound && !rel.is_empty() => continue,
            Err(e) => return Err(io_error(&procs_path, None, e)),
        };
        let mut pids = Vec::new();
        for (i, line) in procs.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
            pids.push(
                line.trim()
                    .parse::<u32>()
                    .map_err(|_| ReadError::Malformed {
                        path: procs_path.clone(),
                        line: i + 1,
                        detail: format!("not a PID: {line:?}"),
                    })?,
            );
        }
        pids.sort_unstable();
        for pid in pids {
            if let Some(p) = read_process(proc_root, pid, &rel)? {
                out.push(p);
            }
        }
        let mut children = Vec::new();
        let entries = match std::fs::read_dir(&cgroup) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound && !rel.is_empty() => continue,
            Err(e) => return Err(io_error(&cgroup, None, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&cgroup, None, e))?;
            // A cgroup's subdirectories are its child cgroups; cgroupfs has no symlinks.
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let name = entry.file_name().to_string_lossy().into_owned();
                let child_rel = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                children.push((entry.path(), child_rel));
            }
        }
        // Depth first, children in name order.
        children.sort_by(|a, b| b.1.cmp(&a.1));
        pending.extend(children);
    }
    Ok(out)
}

/// Every process of the unit whose main process is `pid`: the processes in `pid`'s cgroup
/// (found via `/proc/PID/cgroup` under `cgroup_root`) and below.
pub fn read_unit_processes(
    proc_root: &Path,
    cgroup_root: &Path,
    pid: u32,
) -> Result<Vec<CgroupProcess>, ReadError> {
    let membership = read_proc_cgroup(proc_root, pid)?;
    let dir = unit_directory(cgroup_root, &membership, pid)?;
    read_cgroup_processes(proc_root, &dir)
}

/// Translate `inner_pid`, a PID in the PID namespace of process `holder` (e.g. a `MainPID`
/// reported by a systemd in a container, `holder` being that systemd's host PID), to a PID in
/// sandgen's namespace. Scans `<proc_root>/*/status` for the process whose `NSpid` entry at
/// `holder`'s depth is `inner_pid`: a process of `holder`'s own namespace first, else one in a
/// namespace nested below it (a unit with `PrivatePIDs=`, whose main process is PID 1 of a
/// namespace of its own; `NSpid` lists a process's PID in every namespace from ours down).
/// `None` when there is none (it exited). A nested namespace is not checked to descend from
/// `holder`'s; the caller's cgroup check tells a stranger of the same depth apart.
pub fn translate_pid(
    proc_root: &Path,
    holder: u32,
    inner_pid: u32,
) -> Result<Option<u32>, ReadError> {
    let ns_path = proc_root.join(holder.to_string()).join("ns/pid");
    let namespace =
        std::fs::read_link(&ns_path).map_err(|e| io_error(&ns_path, Some(holder), e))?;
    let holder_status_path = proc_root.join(holder.to_string()).join("status");
    let holder_status = std::fs::read_to_string(&holder_status_path)
        .map_err(|e| io_error(&holder_status_path, Some(holder), e))?;
    // How deep `holder`'s namespace is below ours: its NSpid has one entry more per level.
    let depth = status_field(&holder_status, "NSpid")
        .and_then(|(_, v)| parse_pid_list(v))
        .map_or(0, |list| list.len().saturating_sub(1));
    let entries = std::fs::read_dir(proc_root).map_err(|e| io_error(proc_root, None, e))?;
    let mut nested = None;
    for entry in entries {
        let entry = entry.map_err(|e| io_error(proc_root, None, e))?;
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let dir = entry.path();
        // Processes exit while we scan, and some are not ours to read: skip those.
        let Ok(status) = std::fs::read_to_string(dir.join("status")) else {
            continue;
        };
        let Some(list) = status_field(&status, "NSpid").and_then(|(_, v)| parse_pid_list(v)) else {
            continue;
        };
        if list.get(depth) != Some(&inner_pid) {
            continue;
        }
        if std::fs::read_link(dir.join("ns/pid")).ok().as_ref() == Some(&namespace) {
            return Ok(Some(pid));
        }
        if list.len() > depth + 1 {
            nested.get_or_insert(pid);
        }
    }
    Ok(nested)
}

/// Read one process; `None` when it has exited meanwhile.
fn read_process(
    proc_root: &Path,
    pid: u32,
    cgroup: &str,
) -> Result<Option<CgroupProcess>, ReadError> {
    let dir = proc_root.join(pid.to_string());
    let status_path = dir.join("status");
    let status = match std::fs::read_to_string(&status_path) {
        Ok(text) => text,
        Err(e) => {
            return match io_error(&status_path, Some(pid), e) {
                ReadError::Gone { .. } => Ok(None),
                other => Err(other),
            }
        }
    };
    let comm = status_field(&status, "Name")
        .map(|(_, name)| name.to_owned())
        .ok_or_else(|| ReadError::MissingField {
            path: status_path.clone(),
            field: "Name",
        })?;
    let nspid = match status_field(&status, "NSpid") {
        Some((line, value)) => parse_pid_list(value).ok_or_else(|| ReadError::Malformed {
            path: status_path.clone(),
            line,
            detail: format!("`NSpid` is not a PID list: {value:?}"),
        })?,
        None => vec![pid],
    };
    let pid_namespace = std::fs::read_link(dir.join("ns/pid"))
        .ok()
        .map(|target| target.to_string_lossy().into_owned());
    Ok(Some(CgroupProcess {
        pid,
        comm,
        nspid,
        pid_namespace,
        cgroup: cgroup.to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::fixture;

    /// A /proc with `(pid, NSpid, pid namespace)` processes.
    fn fake_proc(processes: &[(u32, &str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        for (pid, nspid, ns) in processes {
            let p = dir.path().join(pid.to_string());
            std::fs::create_dir_all(p.join("ns")).expect("mkdir");
            std::fs::write(p.join("status"), format!("Name:\tx\nNSpid:\t{nspid}\n"))
                .expect("status");
            std::os::unix::fs::symlink(ns, p.join("ns/pid")).expect("symlink");
        }
        dir
    }

    #[test]
    fn container_pids_translate_also_from_a_namespace_nested_below() {
        let proc = fake_proc(&[
            // A container's systemd (PID 1 inside), and a process of its namespace.
            (100, "100\t1", "pid:[10]"),
            (150, "150\t7", "pid:[10]"),
            // A unit with PrivatePIDs= in that container: 9 in the container, 1 in its own.
            (160, "160\t9\t1", "pid:[11]"),
            // Another container's process with the same inner PID 9, not nested below.
            (170, "170\t9", "pid:[12]"),
        ]);
        let root = proc.path();
        assert_eq!(translate_pid(root, 100, 7).expect("scan"), Some(150));
        assert_eq!(translate_pid(root, 100, 9).expect("scan"), Some(160));
        assert_eq!(translate_pid(root, 100, 5).expect("scan"), None);
        // From the top namespace (no container), a PID is itself, nested or not.
        let proc = fake_proc(&[(1, "1", "pid:[1]"), (160, "160\t1", "pid:[2]")]);
        assert_eq!(translate_pid(proc.path(), 1, 160).expect("scan"), Some(160));
    }

    #[test]
    fn lists_a_v2_unit_with_a_child_cgroup() {
        let procs = read_unit_processes(
            &fixture("cgroup-v2/proc"),
            &fixture("cgroup-v2/sys/fs/cgroup"),
            812,
        )
        .unwrap();
        let summary: Vec<(u32, &str, &str)> = procs
            .iter()
            .map(|p| (p.pid, p.comm.as_str(), p.cgroup.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                (812, "heat", ""),
                (815, "heat-worker", ""),
                (820, "sleep", "worker")
            ]
        );
        assert_eq!(procs[0].nspid, [812]);
        assert_eq!(procs[0].pid_namespace.as_deref(), Some("pid:[4026531836]"));
    }

    #[test]
    fn lists_a_v1_unit_in_a_container_pid_namespace() {
        let procs = read_unit_processes(
            &fixture("cgroup-v1/proc"),
            &fixture("cgroup-v1/sys/fs/cgroup"),
            9540,
        )
        .unwrap();
        let nspids: Vec<(u32, Vec<u32>)> = procs.iter().map(|p| (p.pid, p.nspid.clone())).collect();
        assert_eq!(nspids, [(9540, vec![9540, 54]), (9541, vec![9541, 55])]);
        assert_eq!(procs[1].comm, "sh");
    }

    #[test]
    fn skips_a_listed_process_that_has_exited() {
        // 4999 has no /proc entry in the fixture; 815 has.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cgroup.procs"), "4999\n815\n").unwrap();
        let procs = read_cgroup_processes(&fixture("cgroup-v2/proc"), dir.path()).unwrap();
        let pids: Vec<u32> = procs.iter().map(|p| p.pid).collect();
        assert_eq!(pids, [815]);
    }
}
