# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sandgen_global_optspecs
    string join \n v/verbose q/quiet H/host= user bus= root= timeout= h/help V/version
end

function __fish_sandgen_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sandgen_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sandgen_using_subcommand
    set -l cmd (__fish_sandgen_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sandgen -n "__fish_sandgen_needs_command" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_needs_command" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_needs_command" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_needs_command" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_needs_command" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_needs_command" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_needs_command" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_needs_command" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_needs_command" -s V -l version -d 'Print version'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "render" -d 'Render policies into unit files (stdout, -o FILE, or --out-dir DIR)'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "check" -d 'Validate policies without rendering anything'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "new" -d 'Start a policy from a built-in example (or a policy file), under a new name'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "install" -d 'Render a policy and write its unit file (atomically), then reload systemd'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "start" -d 'Install a policy\'s unit if it changed, start it, and report whether it runs'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "stop" -d 'Stop a unit'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "restart" -d 'Restart a unit and report whether it runs'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "status" -d 'Show a unit\'s state, main PID, memory, tasks, cgroup and unit file'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "uninstall" -d 'Stop a unit and remove its unit file, if sandgen generated it'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "freeze" -d 'Freeze all processes of a unit (cgroup freezer)'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "thaw" -d 'Thaw a frozen unit'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "run" -d 'Run a policy as a transient unit: no file written, no reload'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "inspect" -d 'Show a running unit\'s sandbox as the kernel sees it: mounts, capabilities, seccomp, cgroup, processes'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "verify" -d 'Check a running unit against its policy, directive by directive, from the kernel\'s view'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "suggest" -d 'Trace a command and suggest a system call allow-list for it'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "learn" -d 'Record a running unit\'s system calls in place (BPF) and merge them into its profile'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "profile" -d 'Show or merge the profiles `learn` keeps'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "score" -d 'Score a policy\'s or unit\'s exposure with `systemd-analyze security`'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "reference" -d 'Print the policy reference (every table and key) as Markdown'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "man" -d 'Write the manual pages (docs/man/: `sandgen man --out-dir docs/man`)'
complete -c sandgen -n "__fish_sandgen_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sandgen -n "__fish_sandgen_using_subcommand render" -s o -l output -d 'Write the unit to FILE (atomically) instead of stdout. One policy only' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand render" -l out-dir -d 'Write each unit to DIR/NAME.service' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand render" -l templates -d 'Use DIR/service.hbs instead of the built-in template' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand render" -l systemd-version -d 'The systemd version to render for, whose system call groups policies are checked against [default: the manager\'s over D-Bus where sandgen talks to one, else the host\'s, from `systemctl --version`]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand render" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand render" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand render" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand render" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand render" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand render" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand render" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand render" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand check" -l systemd-version -d 'The systemd version to render for, whose system call groups policies are checked against [default: the manager\'s over D-Bus where sandgen talks to one, else the host\'s, from `systemctl --version`]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand check" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand check" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand check" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand check" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand check" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand check" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand check" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand check" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand new" -l from -d 'The example to copy (see --list), or a policy file (PATH.toml)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand new" -s o -l output -d 'Write to PATH instead of ./NAME.toml (never over an existing file)' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand new" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand new" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand new" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand new" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand new" -l list -d 'List the built-in examples with what each is'
complete -c sandgen -n "__fish_sandgen_using_subcommand new" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand new" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand new" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand new" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand install" -l unit-dir -d 'Directory for the unit file [default: /etc/systemd/system, or ~/.config/systemd/user with --user]' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand install" -l templates -d 'Use DIR/service.hbs instead of the built-in template' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand install" -l systemd-version -d 'The systemd version to render for, whose system call groups policies are checked against [default: the manager\'s over D-Bus where sandgen talks to one, else the host\'s, from `systemctl --version`]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand install" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand install" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand install" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand install" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand install" -l force -d 'Overwrite a unit file that sandgen did not generate'
complete -c sandgen -n "__fish_sandgen_using_subcommand install" -l no-reload -d 'Do not reload systemd'
complete -c sandgen -n "__fish_sandgen_using_subcommand install" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand install" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand install" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand install" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand start" -l unit-dir -d 'Directory for the unit file [default: /etc/systemd/system, or ~/.config/systemd/user with --user]' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand start" -l templates -d 'Use DIR/service.hbs instead of the built-in template' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand start" -l systemd-version -d 'The systemd version to render for, whose system call groups policies are checked against [default: the manager\'s over D-Bus where sandgen talks to one, else the host\'s, from `systemctl --version`]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand start" -l settle -d 'Seconds to watch a started service at least, from the exec of its command, so that one that fails at once is reported; longer on a machine slow to set up its sandbox (three times that set-up, up to 10 s); 0: do not watch' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand start" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand start" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand start" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand start" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand start" -l force -d 'Overwrite a unit file that sandgen did not generate'
complete -c sandgen -n "__fish_sandgen_using_subcommand start" -l no-block -d 'Return once the job is queued, without waiting for it'
complete -c sandgen -n "__fish_sandgen_using_subcommand start" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand start" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand start" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand start" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand stop" -l settle -d 'Seconds to watch a started service at least, from the exec of its command, so that one that fails at once is reported; longer on a machine slow to set up its sandbox (three times that set-up, up to 10 s); 0: do not watch' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand stop" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand stop" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand stop" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand stop" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand stop" -l no-block -d 'Return once the job is queued, without waiting for it'
complete -c sandgen -n "__fish_sandgen_using_subcommand stop" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand stop" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand stop" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand stop" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand restart" -l settle -d 'Seconds to watch a started service at least, from the exec of its command, so that one that fails at once is reported; longer on a machine slow to set up its sandbox (three times that set-up, up to 10 s); 0: do not watch' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand restart" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand restart" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand restart" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand restart" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand restart" -l no-block -d 'Return once the job is queued, without waiting for it'
complete -c sandgen -n "__fish_sandgen_using_subcommand restart" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand restart" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand restart" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand restart" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand status" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand status" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand status" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand status" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand status" -l json -d 'One JSON object'
complete -c sandgen -n "__fish_sandgen_using_subcommand status" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand status" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand status" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand status" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand uninstall" -l unit-dir -d 'Directory of the unit file [default: /etc/systemd/system]' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand uninstall" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand uninstall" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand uninstall" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand uninstall" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand uninstall" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand uninstall" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand uninstall" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand uninstall" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand freeze" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand freeze" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand freeze" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand freeze" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand freeze" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand freeze" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand freeze" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand freeze" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand thaw" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand thaw" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand thaw" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand thaw" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand thaw" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand thaw" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand thaw" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand thaw" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand run" -l unit -d 'Unit name [default: the policy\'s name]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand run" -l systemd-version -d 'The systemd version to render for, whose system call groups policies are checked against [default: the manager\'s over D-Bus where sandgen talks to one, else the host\'s, from `systemctl --version`]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand run" -l settle -d 'Seconds to watch a started service at least, from the exec of its command, so that one that fails at once is reported; longer on a machine slow to set up its sandbox (three times that set-up, up to 10 s); 0: do not watch' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand run" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand run" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand run" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand run" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand run" -l no-block -d 'Return once the job is queued, without waiting for it'
complete -c sandgen -n "__fish_sandgen_using_subcommand run" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand run" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand run" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand run" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand inspect" -l ls -d 'List PATH as the unit sees it, from inside its mount namespace (repeatable)' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand inspect" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand inspect" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand inspect" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand inspect" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand inspect" -l mounts -d 'The mount table of the unit\'s namespace as a tree, marking what differs from the service manager\'s'
complete -c sandgen -n "__fish_sandgen_using_subcommand inspect" -l caps -d 'Capability sets by name, NoNewPrivs, securebits'
complete -c sandgen -n "__fish_sandgen_using_subcommand inspect" -l seccomp -d 'Seccomp mode, and what the filters do per architecture: the default action, the system calls allowed and refused, the address families and namespace types allowed'
complete -c sandgen -n "__fish_sandgen_using_subcommand inspect" -l no-ptrace -d 'With --seccomp: do not read the filters (which stops the process for a moment with ptrace); show only the mode and the number of filters'
complete -c sandgen -n "__fish_sandgen_using_subcommand inspect" -l cgroup -d 'The unit\'s cgroup: limits and usage, OOM kills'
complete -c sandgen -n "__fish_sandgen_using_subcommand inspect" -l pids -d 'The processes of the unit\'s cgroup and the PID namespace they see'
complete -c sandgen -n "__fish_sandgen_using_subcommand inspect" -l json -d 'Everything as one JSON object (stable keys)'
complete -c sandgen -n "__fish_sandgen_using_subcommand inspect" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand inspect" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand inspect" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand inspect" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand verify" -l policy -d 'The policy to verify against [default: the one sandgen recorded in the unit file]' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand verify" -l systemd-version -d 'Lower the policy for this systemd version [default: the running systemd\'s]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand verify" -l profile-dir -d 'The directory of the profiles' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand verify" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand verify" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand verify" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand verify" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand verify" -l json -d 'One JSON object: every check with its status and evidence'
complete -c sandgen -n "__fish_sandgen_using_subcommand verify" -l no-ptrace -d 'Do not read the unit\'s seccomp filters (which stops its main process for a moment with ptrace): seccomp directives then pass on the filter mode alone'
complete -c sandgen -n "__fish_sandgen_using_subcommand verify" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand verify" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand verify" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand verify" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -l policy -d 'Trace under this policy\'s settings (and its `exec`, when no command is given)' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -l error-number -d 'With --whole: a refused system call fails with this errno (e.g. EPERM) instead of killing the process' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -l stop-after -d 'Stop the command SECS seconds after it starts (a service that does not exit on its own; counted from its exec, not from the start job); being stopped (SIGTERM) then counts as ending well, in the trace and in --verify' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -l tracer -d 'The tracer: `bpf`, the in-kernel recorder (near-native speed; root and a kernel with BTF), `strace` (ptrace: slow, but sees every argument), or `auto` (BPF where it can, else strace, saying why)' -r -f -a "auto\t'The BPF recorder where it can run, else strace'
bpf\t'The in-kernel BPF recorder: near-native speed; needs root and a kernel with BTF'
strace\t'strace (ptrace): every call\'s arguments, at hundreds of times the cost'"
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -l strace -d 'The strace program: a name (looked up where the command runs) or an absolute path' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -l systemd-version -d 'The systemd version to render for, whose system call groups policies are checked against [default: the manager\'s over D-Bus where sandgen talks to one, else the host\'s, from `systemctl --version`]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -l write -d 'Replace `[seccomp] allow` in the --policy file with the suggestion, keeping the rest (with --whole: every setting the trace decided)'
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -l whole -d 'Suggest the whole sandbox policy, not only `[seccomp]`: each setting decided from what the trace showed (files written, sockets, memory mappings, namespaces, capabilities) and justified in a comment; a complete policy for `sandgen run` or `start`'
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -l exact -d 'The tightest list: only the calls the trace saw, without the variants other libc versions use for the same operations (a list that may die at the next libc upgrade)'
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -l json -d 'Print one JSON object instead of TOML'
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -l direct -d 'Trace the command as a child of sandgen instead of a transient systemd unit'
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -l verify -d 'Run the command again under the suggested filter; widen the list until it passes'
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -l allow-failure -d 'Profile a command that fails (exits non-zero or is killed) instead of refusing'
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -l keep-trace -d 'Keep strace\'s output file and print where it is'
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand suggest" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sandgen -n "__fish_sandgen_using_subcommand learn" -l for -d 'Record this long (systemd\'s time syntax: 90, 90s, 5min, 2h, 1d); else until Ctrl-C or the unit stops' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand learn" -l tracer -d 'The tracer' -r -f -a "auto\t'The BPF recorder; learn has no other (strace would slow a loaded service by 100x or more), so `auto` fails, saying why, where it cannot run'
bpf\t'The in-kernel BPF recorder (root, a kernel with BTF)'"
complete -c sandgen -n "__fish_sandgen_using_subcommand learn" -l policy -d 'The policy file --write rewrites' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand learn" -l converged-after -d 'How many recordings in a row without a new system call mean the profile converged' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand learn" -l profile-dir -d 'The directory of the profiles' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand learn" -l systemd-version -d 'The systemd version to render for, whose system call groups policies are checked against [default: the manager\'s over D-Bus where sandgen talks to one, else the host\'s, from `systemctl --version`]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand learn" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand learn" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand learn" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand learn" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand learn" -l start -d 'Arm the recorder, then start the (inactive) unit: a oneshot unit\'s whole life is recorded, from its command\'s exec on'
complete -c sandgen -n "__fish_sandgen_using_subcommand learn" -l suggest -d 'Print the [seccomp] allow-list of the whole profile, mapped onto systemd\'s groups as `sandgen suggest` does'
complete -c sandgen -n "__fish_sandgen_using_subcommand learn" -l write -d 'Write that list into the unit\'s policy (--policy FILE, else the file the unit was rendered from), keeping everything else'
complete -c sandgen -n "__fish_sandgen_using_subcommand learn" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand learn" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand learn" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand learn" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and not __fish_seen_subcommand_from show merge help" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and not __fish_seen_subcommand_from show merge help" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and not __fish_seen_subcommand_from show merge help" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and not __fish_seen_subcommand_from show merge help" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and not __fish_seen_subcommand_from show merge help" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and not __fish_seen_subcommand_from show merge help" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and not __fish_seen_subcommand_from show merge help" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and not __fish_seen_subcommand_from show merge help" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and not __fish_seen_subcommand_from show merge help" -f -a "show" -d 'Show a profile: its system calls, recordings and whether it converged'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and not __fish_seen_subcommand_from show merge help" -f -a "merge" -d 'Merge profiles of one unit (from several runs or machines): their union, counts added'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and not __fish_seen_subcommand_from show merge help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from show" -l converged-after -d 'How many recordings in a row without a new system call mean it converged' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from show" -l profile-dir -d 'The directory of the profiles' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from show" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from show" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from show" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from show" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from show" -l json -d 'Print the profile\'s JSON'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from show" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from merge" -s o -l output -d 'Write the merged profile to OUT (atomically) instead of stdout' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from merge" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from merge" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from merge" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from merge" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from merge" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from merge" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from merge" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from merge" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show a profile: its system calls, recordings and whether it converged'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "merge" -d 'Merge profiles of one unit (from several runs or machines): their union, counts added'
complete -c sandgen -n "__fish_sandgen_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sandgen -n "__fish_sandgen_using_subcommand score" -l top -d 'How many of the largest contributing settings to list' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand score" -l systemd-version -d 'The systemd version to render for, whose system call groups policies are checked against [default: the manager\'s over D-Bus where sandgen talks to one, else the host\'s, from `systemctl --version`]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand score" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand score" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand score" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand score" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand score" -l json -d 'Print JSON'
complete -c sandgen -n "__fish_sandgen_using_subcommand score" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand score" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand score" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand score" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand reference" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand reference" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand reference" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand reference" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand reference" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand reference" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand reference" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand reference" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand completions" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand completions" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand completions" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand completions" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand completions" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand completions" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand completions" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand completions" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand man" -l out-dir -d 'Write the pages into DIR (created if missing), one file per page' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand man" -s H -l host -d 'Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several --host run the command on each, in parallel' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand man" -l bus -d 'D-Bus address of the systemd to talk to [default: the system bus]' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand man" -l root -d 'Root directory of that systemd\'s file system (unit files, journal), e.g. /proc/PID/root of a container' -r -F
complete -c sandgen -n "__fish_sandgen_using_subcommand man" -l timeout -d 'Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call)' -r
complete -c sandgen -n "__fish_sandgen_using_subcommand man" -s v -l verbose -d 'More output (-v info, -vv debug)'
complete -c sandgen -n "__fish_sandgen_using_subcommand man" -s q -l quiet -d 'Only errors'
complete -c sandgen -n "__fish_sandgen_using_subcommand man" -l user -d 'Talk to the user\'s service manager (session bus, ~/.config/systemd/user)'
complete -c sandgen -n "__fish_sandgen_using_subcommand man" -s h -l help -d 'Print help'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "render" -d 'Render policies into unit files (stdout, -o FILE, or --out-dir DIR)'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "check" -d 'Validate policies without rendering anything'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "new" -d 'Start a policy from a built-in example (or a policy file), under a new name'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "install" -d 'Render a policy and write its unit file (atomically), then reload systemd'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "start" -d 'Install a policy\'s unit if it changed, start it, and report whether it runs'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "stop" -d 'Stop a unit'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "restart" -d 'Restart a unit and report whether it runs'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "status" -d 'Show a unit\'s state, main PID, memory, tasks, cgroup and unit file'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "uninstall" -d 'Stop a unit and remove its unit file, if sandgen generated it'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "freeze" -d 'Freeze all processes of a unit (cgroup freezer)'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "thaw" -d 'Thaw a frozen unit'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "run" -d 'Run a policy as a transient unit: no file written, no reload'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "inspect" -d 'Show a running unit\'s sandbox as the kernel sees it: mounts, capabilities, seccomp, cgroup, processes'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "verify" -d 'Check a running unit against its policy, directive by directive, from the kernel\'s view'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "suggest" -d 'Trace a command and suggest a system call allow-list for it'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "learn" -d 'Record a running unit\'s system calls in place (BPF) and merge them into its profile'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "profile" -d 'Show or merge the profiles `learn` keeps'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "score" -d 'Score a policy\'s or unit\'s exposure with `systemd-analyze security`'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "reference" -d 'Print the policy reference (every table and key) as Markdown'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "man" -d 'Write the manual pages (docs/man/: `sandgen man --out-dir docs/man`)'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and not __fish_seen_subcommand_from render check new install start stop restart status uninstall freeze thaw run inspect verify suggest learn profile score reference completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "show" -d 'Show a profile: its system calls, recordings and whether it converged'
complete -c sandgen -n "__fish_sandgen_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "merge" -d 'Merge profiles of one unit (from several runs or machines): their union, counts added'
