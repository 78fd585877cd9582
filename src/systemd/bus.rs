//! systemd's D-Bus API (org.freedesktop.systemd1(5)), behind the [`Systemd`] seam.
//!
//! Every call has a time-out. A start follows the protocol systemctl uses: subscribe to
//! `JobRemoved` before `StartUnit`, then wait for the signal naming the returned job, since
//! the method returns as soon as the job is queued.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use zbus::proxy::CacheProperties;
use zbus::{proxy, Connection};
use zbus::{OwnedObjectPath, Variant as Value};

use super::properties::Property;
use super::status::{counter, UnitStatus};

#[proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1"
)]
trait Manager {
    fn subscribe(&self) -> zbus::Result<()>;
    fn reload(&self) -> zbus::Result<()>;
    fn get_unit(&self, name: &str) -> zbus::Result<OwnedObjectPath>;
    fn load_unit(&self, name: &str) -> zbus::Result<OwnedObjectPath>;
    fn start_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn stop_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn restart_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn reset_failed_unit(&self, name: &str) -> zbus::Result<()>;
    fn freeze_unit(&self, name: &str) -> zbus::Result<()>;
    fn thaw_unit(&self, name: &str) -> zbus::Result<()>;
    #[allow(clippy::type_complexity)]
    fn start_transient_unit(
        &self,
        name: &str,
        mode: &str,
        properties: &[(&str, &Value<'_>)],
        aux: &[(&str, &[(&str, &Value<'_>)])],
    ) -> zbus::Result<OwnedObjectPath>;
    #[zbus(property)]
    fn version(&self) -> zbus::Result<String>;
    #[zbus(signal)]
    fn job_removed(
        &self,
        id: u32,
        job: OwnedObjectPath,
        unit: String,
        result: String,
    ) -> zbus::Result<()>;
}

/// Which bus to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bus {
    /// The system bus (the system manager).
    System,
    /// The session bus (the user's manager).
    Session,
    /// Any D-Bus address (`unix:path=...`).
    Address(String),
    /// The system bus of another machine, over SSH (`--host`).
    Remote(super::ssh::Ssh),
}

impl std::fmt::Display for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bus::System => f.write_str("the system bus"),
            Bus::Session => f.write_str("the session bus"),
            Bus::Address(a) => write!(f, "the bus at {a}"),
            Bus::Remote(ssh) => write!(
                f,
                "the system bus of {} (ssh -xT {} systemd-stdio-bridge)",
                ssh.destination, ssh.destination
            ),
        }
    }
}

/// A D-Bus failure, in words that say what to do.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// No connection could be made.
    #[error("cannot connect to {bus}: {message}; is systemd running? (--bus ADDRESS or SANDGEN_BUS selects another bus)")]
    Connect {
        /// The bus.
        bus: Bus,
        /// What went wrong.
        message: String,
    },
    /// ssh, or systemd-stdio-bridge at the other end, failed (`--host`).
    #[error("{host}: cannot reach its systemd over SSH (ssh -xT {host} systemd-stdio-bridge): {message}; ssh's own message, if it printed one, is above")]
    RemoteConnect {
        /// The destination.
        host: String,
        /// What went wrong.
        message: String,
    },
    /// systemd cannot do this on this system.
    #[error("{action}: {message}")]
    NotSupported {
        /// What was attempted.
        action: String,
        /// systemd's message, and why.
        message: String,
    },
    /// systemd (or polkit) refused the call.
    #[error("{action}: access denied ({message}); run as root, or allow it with polkit")]
    AccessDenied {
        /// What was attempted.
        action: String,
        /// systemd's message.
        message: String,
    },
    /// systemd does not know the unit.
    #[error("{unit}: no such unit ({message})")]
    NoSuchUnit {
        /// The unit.
        unit: String,
        /// systemd's message.
        message: String,
    },
    /// The bus or systemd did not answer in time.
    #[error("{action}: no answer from systemd within {seconds} s")]
    Timeout {
        /// What was attempted.
        action: String,
        /// The time-out.
        seconds: f64,
    },
    /// Any other failure of a call.
    #[error("{action}: {message}")]
    Call {
        /// What was attempted.
        action: String,
        /// What systemd or the bus said.
        message: String,
    },
}

fn classify(action: &str, unit: &str, e: zbus::Error, timeout: Duration) -> BusError {
    // zbus turns the standard org.freedesktop.DBus.Error.* replies into `fdo::Error`s.
    if let zbus::Error::FDO(fdo) = &e {
        let action = action.to_owned();
        match &**fdo {
            zbus::fdo::Error::AccessDenied(m)
            | zbus::fdo::Error::InteractiveAuthorizationRequired(m) => {
                return BusError::AccessDenied {
                    action,
                    message: m.clone(),
                }
            }
            zbus::fdo::Error::NotSupported(m) => {
                return BusError::NotSupported {
                    action,
                    message: m.clone(),
                }
            }
            zbus::fdo::Error::TimedOut(_) | zbus::fdo::Error::NoReply(_) => {
                return BusError::Timeout {
                    action,
                    seconds: timeout.as_secs_f64(),
                }
            }
            _ => {}
        }
    }
    if let zbus::Error::MethodError(name, msg, _) = &e {
        let message = msg.clone().unwrap_or_default();
        match name.as_str() {
            "org.freedesktop.DBus.Error.AccessDenied"
            | "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired" => {
                return BusError::AccessDenied {
                    action: action.to_owned(),
                    message,
                }
            }
            "org.freedesktop.DBus.Error.NotSupported" => {
                return BusError::NotSupported {
                    action: action.to_owned(),
                    message,
                }
            }
            "org.freedesktop.systemd1.NoSuchUnit" | "org.freedesktop.systemd1.LoadFailed" => {
                return BusError::NoSuchUnit {
                    unit: unit.to_owned(),
                    message,
                }
            }
            _ => {
                return BusError::Call {
                    action: action.to_owned(),
                    message: format!("{message} ({name})"),
                }
            }
        }
    }
    if let zbus::Error::InputOutput(io) = &e {
        if io.kind() == std::io::ErrorKind::TimedOut {
            return BusError::Timeout {
                action: action.to_owned(),
                seconds: timeout.as_secs_f64(),
            };
        }
    }
    BusError::Call {
        action: action.to_owned(),
        message: e.to_string(),
    }
}

/// How a job ended (`JobRemoved`'s result: `done`, `failed`, `canceled`, `timeout`,
/// `dependency`, `skipped`), or that sandgen stopped waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// The job finished with this result.
    Finished(String),
    /// The job was queued and not waited for (`--no-block`).
    Queued,
}

/// What sandgen asks of systemd. The CLI talks to this trait, so error paths can be
/// tested with a fake; the behaviour that matters is tested against a real systemd.
pub trait Systemd {
    /// systemd's version string.
    fn version(&self) -> Result<String, BusError>;
    /// Reload unit files (`daemon-reload`); returns when systemd has finished.
    fn reload(&self) -> Result<(), BusError>;
    /// Whether systemd has the unit in memory (`GetUnit`, which does not load it). A unit that
    /// is not loaded is read from disk when it is next started, so a new or changed unit file
    /// needs no daemon-reload then.
    fn is_loaded(&self, unit: &str) -> Result<bool, BusError>;
    /// The unit's state without resource usage (`memory_current` and `tasks_current` left
    /// empty): cheaper, for polling. Defaults to [`Systemd::status`].
    fn state(&self, unit: &str) -> Result<UnitStatus, BusError> {
        self.status(unit)
    }
    /// The unit's state (loading it if needed, so an unknown unit reads as `not-found`).
    fn status(&self, unit: &str) -> Result<UnitStatus, BusError>;
    /// Run a job (`start`, `stop`, `restart`) and wait for it unless `block` is false.
    fn job(&self, verb: JobVerb, unit: &str, block: bool) -> Result<JobOutcome, BusError>;
    /// Start a transient unit with these properties and wait for its start job.
    fn start_transient(
        &self,
        unit: &str,
        properties: &[Property],
        block: bool,
    ) -> Result<JobOutcome, BusError>;
    /// Forget a failed state (`reset-failed`); no error if there is none.
    fn reset_failed(&self, unit: &str) -> Result<(), BusError>;
    /// Freeze (`true`) or thaw the unit's processes (cgroup freezer).
    fn freeze(&self, unit: &str, freeze: bool) -> Result<(), BusError>;
}

/// The jobs sandgen runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobVerb {
    /// `StartUnit`.
    Start,
    /// `StopUnit`.
    Stop,
    /// `RestartUnit`.
    Restart,
}

/// The properties of one interface, as `GetAll` returns them.
struct Properties(std::collections::HashMap<String, zbus::OwnedVariant>);

impl Properties {
    fn get<'a, T: TryFrom<&'a zbus::OwnedVariant>>(&'a self, name: &str) -> Option<T> {
        self.0.get(name).and_then(|v| T::try_from(v).ok())
    }

    fn string(&self, name: &str) -> String {
        self.get::<&str>(name).unwrap_or_default().to_owned()
    }
}

/// A connection to a systemd instance over D-Bus.
pub struct Client {
    connection: Connection,
    timeout: Duration,
    subscribed: std::sync::atomic::AtomicBool,
}

/// A future that is ready after `duration`, timed by a helper thread (zbus's runtime is
/// driven by `block_on` and has no timer of its own that sandgen can use).
fn sleep(duration: Duration) -> impl Future<Output = ()> {
    let state: Arc<Mutex<(bool, Option<Waker>)>> = Arc::new(Mutex::new((false, None)));
    let timer = Arc::clone(&state);
    std::thread::spawn(move || {
        std::thread::sleep(duration);
        if let Ok(mut s) = timer.lock() {
            s.0 = true;
            if let Some(w) = s.1.take() {
                w.wake();
            }
        }
    });
    std::future::poll_fn(move |cx| match state.lock() {
        Ok(s) if s.0 => Poll::Ready(()),
        Ok(mut s) => {
            s.1 = Some(cx.waker().clone());
            Poll::Pending
        }
        Err(_) => Poll::Ready(()),
    })
}

impl Client {
    /// Connect to `bus`; every call then times out after `timeout`.
    pub fn connect(bus: &Bus, timeout: Duration) -> Result<Self, BusError> {
        let builder = match bus {
            Bus::System => zbus::connection::Builder::system(),
            Bus::Session => zbus::connection::Builder::session(),
            Bus::Address(a) => zbus::connection::Builder::address(a.as_str()),
            Bus::Remote(ssh) => zbus::connection::Builder::address(ssh.bus_address()),
        };
        let connect = async {
            let b = builder.method_timeout(timeout);
            match select(pin!(b.build()), pin!(sleep(timeout))).await {
                Either::Left((c, _)) => c,
                Either::Right(_) => Err(zbus::Error::InputOutput(Arc::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "connecting timed out",
                )))),
            }
        };
        let connection = zbus::block_on(connect).map_err(|e| match bus {
            Bus::Remote(ssh) => BusError::RemoteConnect {
                host: ssh.destination.clone(),
                message: e.to_string(),
            },
            _ => BusError::Connect {
                bus: bus.clone(),
                message: e.to_string(),
            },
        })?;
        Ok(Client {
            connection,
            timeout,
            subscribed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    async fn manager(&self) -> zbus::Result<ManagerProxy<'_>> {
        ManagerProxy::builder(&self.connection)
            .cache_properties(CacheProperties::No)
            .build()
            .await
    }

    /// The Properties interface of a unit object, uncached (a unit's state is read once).
    async fn properties_proxy(
        &self,
        path: &OwnedObjectPath,
    ) -> zbus::Result<zbus::fdo::PropertiesProxy<'_>> {
        zbus::fdo::PropertiesProxy::builder(&self.connection)
            .destination("org.freedesktop.systemd1")
            .path(path.clone())
            .cache_properties(CacheProperties::No)
            .build()
            .await
    }

    /// All properties of one interface of a unit object, in one round trip.
    async fn properties(
        &self,
        path: &OwnedObjectPath,
        interface: &'static str,
    ) -> zbus::Result<Properties> {
        let proxy = self.properties_proxy(path).await?;
        let name = zbus::names::InterfaceName::from_static_str_unchecked(interface);
        Ok(Properties(proxy.get_all(name).await?))
    }

    /// One property of one interface of a unit object.
    async fn property<T>(
        &self,
        path: &OwnedObjectPath,
        interface: &'static str,
        name: &str,
    ) -> zbus::Result<Option<T>>
    where
        T: TryFrom<zbus::OwnedVariant>,
    {
        let proxy = self.properties_proxy(path).await?;
        let iface = zbus::names::InterfaceName::from_static_str_unchecked(interface);
        Ok(T::try_from(proxy.get(iface, name).await?).ok())
    }

    /// The state fields of [`UnitStatus`] only: the Unit interface and five properties of
    /// the Service interface. `GetAll` on the Service interface makes systemd read every
    /// cgroup accounting file, which costs more than the rest of a start.
    async fn read_state(&self, unit: &str) -> zbus::Result<UnitStatus> {
        let (path, mut status) = self.read_unit(unit).await?;
        if unit.ends_with(".service") && status.load_state == "loaded" {
            const SERVICE: &str = "org.freedesktop.systemd1.Service";
            status.main_pid = self
                .property::<u32>(&path, SERVICE, "MainPID")
                .await?
                .unwrap_or(0);
            status.result = self
                .property::<String>(&path, SERVICE, "Result")
                .await?
                .unwrap_or_default();
            status.exec_main_code = self
                .property::<i32>(&path, SERVICE, "ExecMainCode")
                .await?
                .unwrap_or(0);
            status.exec_main_status = self
                .property::<i32>(&path, SERVICE, "ExecMainStatus")
                .await?
                .unwrap_or(0);
            status.control_group = self
                .property::<String>(&path, SERVICE, "ControlGroup")
                .await?
                .unwrap_or_default();
        }
        Ok(status)
    }

    /// The unit's object (loaded if needed) and the fields of the Unit interface.
    async fn read_unit(&self, unit: &str) -> zbus::Result<(OwnedObjectPath, UnitStatus)> {
        let path = self.manager().await?.load_unit(unit).await?;
        let u = self
            .properties(&path, "org.freedesktop.systemd1.Unit")
            .await?;
        let status = UnitStatus {
            unit: unit.to_owned(),
            load_state: u.string("LoadState"),
            active_state: u.string("ActiveState"),
            sub_state: u.string("SubState"),
            fragment_path: u.string("FragmentPath"),
            need_daemon_reload: u.get::<bool>("NeedDaemonReload").unwrap_or(false),
            active_enter_timestamp: u.get::<u64>("ActiveEnterTimestamp").unwrap_or(0),
            freezer_state: u.string("FreezerState"),
            ..UnitStatus::default()
        };
        Ok((path, status))
    }

    async fn read_status(&self, unit: &str) -> zbus::Result<UnitStatus> {
        let (path, mut status) = self.read_unit(unit).await?;
        if unit.ends_with(".service") && status.load_state == "loaded" {
            let s = self
                .properties(&path, "org.freedesktop.systemd1.Service")
                .await?;
            status.main_pid = s.get::<u32>("MainPID").unwrap_or(0);
            status.result = s.string("Result");
            status.exec_main_code = s.get::<i32>("ExecMainCode").unwrap_or(0);
            status.exec_main_status = s.get::<i32>("ExecMainStatus").unwrap_or(0);
            status.memory_current = s.get::<u64>("MemoryCurrent").and_then(counter);
            status.tasks_current = s.get::<u64>("TasksCurrent").and_then(counter);
            status.control_group = s.string("ControlGroup");
            status.secure_bits = s.get::<i32>("SecureBits");
        }
        Ok(status)
    }

    /// Subscribe, queue a job with `queue`, and wait for its `JobRemoved`.
    async fn run_job<F, Fut>(&self, queue: F, block: bool) -> zbus::Result<Result<JobOutcome, ()>>
    where
        F: FnOnce(ManagerProxy<'static>) -> Fut,
        Fut: Future<Output = zbus::Result<OwnedObjectPath>>,
    {
        let manager = ManagerProxy::builder(&self.connection)
            .cache_properties(CacheProperties::No)
            .build()
            .await?;
        // systemd refuses a second Subscribe from the same connection (AlreadySubscribed).
        if !self
            .subscribed
            .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            manager.subscribe().await?;
        }
        let mut removed = manager.receive_job_removed().await?;
        let job = queue(manager).await?;
        if !block {
            return Ok(Ok(JobOutcome::Queued));
        }
        let wait = async {
            while let Some(signal) = removed.next().await {
                if let Ok(args) = signal.args() {
                    if args.job == job {
                        return Some(args.result);
                    }
                }
            }
            None
        };
        Ok(match select(pin!(wait), pin!(sleep(self.timeout))).await {
            Either::Left((Some(result), _)) => Ok(JobOutcome::Finished(result)),
            _ => Err(()),
        })
    }

    fn block<T>(
        &self,
        action: &str,
        unit: &str,
        f: impl Future<Output = zbus::Result<T>>,
    ) -> Result<T, BusError> {
        zbus::block_on(f).map_err(|e| classify(action, unit, e, self.timeout))
    }

    fn job_result(
        &self,
        action: &str,
        unit: &str,
        r: zbus::Result<Result<JobOutcome, ()>>,
    ) -> Result<JobOutcome, BusError> {
        match r {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(())) => Err(BusError::Timeout {
                action: action.to_owned(),
                seconds: self.timeout.as_secs_f64(),
            }),
            Err(e) => Err(classify(action, unit, e, self.timeout)),
        }
    }
}

impl Systemd for Client {
    fn version(&self) -> Result<String, BusError> {
        self.block("reading systemd's version", "", async {
            self.manager().await?.version().await
        })
    }

    fn reload(&self) -> Result<(), BusError> {
        self.block("reloading systemd", "", async {
            self.manager().await?.reload().await
        })
    }

    fn is_loaded(&self, unit: &str) -> Result<bool, BusError> {
        let r = self.block(&format!("looking up {unit}"), unit, async {
            self.manager().await?.get_unit(unit).await
        });
        match r {
            Ok(_) => Ok(true),
            Err(BusError::NoSuchUnit { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn state(&self, unit: &str) -> Result<UnitStatus, BusError> {
        self.block(
            &format!("reading the state of {unit}"),
            unit,
            self.read_state(unit),
        )
    }

    fn status(&self, unit: &str) -> Result<UnitStatus, BusError> {
        self.block(
            &format!("reading the state of {unit}"),
            unit,
            self.read_status(unit),
        )
    }

    fn job(&self, verb: JobVerb, unit: &str, block: bool) -> Result<JobOutcome, BusError> {
        let (action, result) = match verb {
            JobVerb::Start => (
                format!("starting {unit}"),
                zbus::block_on(self.run_job(
                    |m| async move { m.start_unit(unit, "replace").await },
                    block,
                )),
            ),
            JobVerb::Stop => (
                format!("stopping {unit}"),
                zbus::block_on(
                    self.run_job(|m| async move { m.stop_unit(unit, "replace").await }, block),
                ),
            ),
            JobVerb::Restart => (
                format!("restarting {unit}"),
                zbus::block_on(self.run_job(
                    |m| async move { m.restart_unit(unit, "replace").await },
                    block,
                )),
            ),
        };
        self.job_result(&action, unit, result)
    }

    fn start_transient(
        &self,
        unit: &str,
        properties: &[Property],
        block: bool,
    ) -> Result<JobOutcome, BusError> {
        let refs: Vec<(&str, &Value<'_>)> = properties
            .iter()
            .map(|p| (p.name.as_str(), &*p.value))
            .collect();
        let result = zbus::block_on(self.run_job(
            |m| async move { m.start_transient_unit(unit, "fail", &refs, &[]).await },
            block,
        ));
        self.job_result(&format!("starting transient unit {unit}"), unit, result)
    }

    fn reset_failed(&self, unit: &str) -> Result<(), BusError> {
        match self.block(&format!("resetting {unit}"), unit, async {
            self.manager().await?.reset_failed_unit(unit).await
        }) {
            Err(BusError::NoSuchUnit { .. }) => Ok(()),
            Err(BusError::Call { message, .. }) if message.contains("NoSuchUnit") => Ok(()),
            other => other,
        }
    }

    fn freeze(&self, unit: &str, freeze: bool) -> Result<(), BusError> {
        let action = format!("{} {unit}", if freeze { "freezing" } else { "thawing" });
        let result = self.block(&action, unit, async {
            let m = self.manager().await?;
            if freeze {
                m.freeze_unit(unit).await
            } else {
                m.thaw_unit(unit).await
            }
        });
        match result {
            Err(BusError::NotSupported { action, message }) => Err(BusError::NotSupported {
                action,
                message: format!(
                    "{message} (systemd freezes units with the cgroup v2 freezer, cgroup.freeze; hosts whose controllers are on cgroup v1 cannot)"
                ),
            }),
            other => other,
        }
    }
}
