//! The names of the systemd directives sandgen writes, as a type: code that treats one
//! directive specially matches on [`Name`], so the compiler points at every place a new
//! directive must be handled (the verify rules, for one).

/// Declares [`Name`] with one variant per directive; the variant's identifier is the
/// directive's name in a unit file.
macro_rules! names {
    ($($name:ident),* $(,)?) => {
        /// A systemd directive (`MemoryMax=`), by the name it has in a unit file.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Name {
            $(
                #[doc = concat!("`", stringify!($name), "=`")]
                $name,
            )*
        }

        impl Name {
            /// Every directive name.
            pub const ALL: &'static [Name] = &[$(Name::$name),*];

            /// The name as written in a unit file.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Name::$name => stringify!($name),)*
                }
            }
        }
    };
}

names! {
    // [Unit]
    Description, After, Before, Requires, Wants,
    // [Service]: what runs, as whom.
    Type, ExecStart, User, Group, DynamicUser, WorkingDirectory, Environment, UMask, Restart,
    TimeoutStartSec, KeyringMode,
    // Written by sandgen for its own tracing units only (no policy key).
    RuntimeDirectory,
    // Resource control.
    MemoryMax, MemoryLimit, MemoryHigh, MemoryLow, MemorySwapMax, MemoryZSwapMax,
    MemoryZSwapWriteback, OOMPolicy, CPUWeight, CPUShares,
    CPUQuota, AllowedCPUs, CPUAffinity, IOWeight, IOReadBandwidthMax, IOWriteBandwidthMax,
    IOReadIOPSMax, IOWriteIOPSMax, TasksMax,
    // Capabilities.
    CapabilityBoundingSet, AmbientCapabilities, NoNewPrivileges, SecureBits,
    // seccomp.
    SystemCallFilter, SystemCallErrorNumber, SystemCallArchitectures, SystemCallLog,
    LockPersonality, MemoryDenyWriteExecute, RestrictRealtime, RestrictSUIDSGID,
    // The mount namespace.
    RootDirectory, MountAPIVFS, PrivateTmp, PrivateDevices, PrivateMounts, ProtectHome,
    ProtectSystem, ReadWritePaths, ReadOnlyPaths, InaccessiblePaths, BindPaths,
    BindReadOnlyPaths, ProtectKernelTunables, ProtectKernelModules, ProtectKernelLogs,
    ProtectControlGroups, ProtectClock, ProtectProc, ProcSubset,
    // Network and other namespaces.
    PrivateNetwork, RestrictAddressFamilies, RestrictNamespaces, PrivateIPC, PrivateUsers,
    PrivatePIDs, ProtectHostname, RemoveIPC, IPAddressAllow, IPAddressDeny,
    // Linux security modules.
    SELinuxContext, AppArmorProfile,
    // [Install]
    WantedBy,
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
