//! Command-line interface: clap definitions here, one thin file per verb.
//! `anyhow` lives only at this edge.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::engine::project::{self, InternalExec, Progress, Project};

pub mod config;
pub mod down;
pub mod events;
pub mod exec;
pub mod images;
pub mod lifecycle;
pub mod log;
pub mod logs;
pub mod ls;
pub mod processes;
pub mod ps;
pub mod up;
pub mod volumes;
pub mod watch;

/// Options every verb accepts, before or after the verb (as in Compose).
#[derive(Debug, Clone, Args, Default)]
pub struct GlobalArgs {
    /// Stack file, repeatable: later files merge onto earlier ones, as in
    /// Compose (or STACK_FILE, a `:`-separated list) [default: stack.yaml,
    /// then compose.yaml, ..., with stack.override.yaml / compose.override.yaml
    /// beside it]
    #[arg(short = 'f', long = "file", global = true)]
    pub files: Vec<PathBuf>,
    /// Directory that relative paths, `.env` and the default stack file are
    /// found in [default: the first stack file's directory]
    #[arg(long = "project-directory", global = true)]
    pub project_dir: Option<PathBuf>,
    /// Project name [default: `name:` in the file, else its directory name]
    #[arg(
        short = 'p',
        long = "project-name",
        env = "STACK_PROJECT_NAME",
        global = true
    )]
    pub project_name: Option<String>,
    /// Enable a profile (repeatable)
    #[arg(
        long = "profile",
        env = "STACK_PROFILES",
        value_delimiter = ',',
        global = true
    )]
    pub profiles: Vec<String>,
    /// Read variables from this file instead of `.env`
    #[arg(long = "env-file", global = true)]
    pub env_file: Option<PathBuf>,
    /// More diagnostics on stderr, repeatable: info, then debug, then trace
    /// (or set STACK_LOG to an env-filter) [default: warnings only]
    #[arg(long = "verbose", action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

impl GlobalArgs {
    pub fn load_options(&self) -> crate::spec::LoadOptions {
        crate::spec::LoadOptions {
            files: if self.files.is_empty() {
                // STACK_FILE: a list, `:`-separated, as COMPOSE_FILE.
                std::env::var_os("STACK_FILE")
                    .map(|v| {
                        std::env::split_paths(&v)
                            .filter(|p| !p.as_os_str().is_empty())
                            .collect()
                    })
                    .unwrap_or_default()
            } else {
                self.files.clone()
            },
            project_dir: self.project_dir.clone(),
            project_name: self.project_name.clone(),
            profiles: self.profiles.clone(),
            env_file: self.env_file.clone(),
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "stack",
    version,
    about = "Compose-style stacks of Linux containers from images and local root filesystems"
)]
#[command(propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the stack file and print its normalized model
    Config(config::ConfigArgs),
    /// Create and start the stack (reconcile it with the file)
    Up(UpArgs),
    /// Print the plan `up` would execute, change nothing
    Plan(UpArgs),
    /// Stop and remove the stack's containers
    Down(DownArgs),
    /// List the stack's containers
    Ps(PsArgs),
    /// Print the public address of a published port
    Port(PortArgs),
    /// Pull the services' images (from a registry, or import local ones)
    Pull(images::PullArgs),
    /// List the images the services use
    Images(images::ImagesArgs),
    /// Manage the machine's image store
    #[command(subcommand)]
    Image(images::ImageCommand),
    /// Manage the machine's named volumes
    #[command(subcommand)]
    Volume(volumes::VolumeCommand),
    /// List the projects on this machine
    Ls(ls::LsArgs),
    /// Print stack's version
    Version {
        /// Output format
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Show container output
    Logs(LogsArgs),
    /// Run a command in a running container
    Exec(ExecArgs),
    /// Stop services (remembered until `start`)
    Stop(ServicesArgs),
    /// Start stopped services
    Start(ServicesArgs),
    /// Restart services
    Restart(ServicesArgs),
    /// Send a signal to the services' containers (default SIGKILL)
    Kill(processes::KillArgs),
    /// List the processes of the services' running containers
    Top(processes::TopArgs),
    /// Run a number of replicas of services (until the next `up`)
    Scale(ScaleArgs),
    /// Stream the stack's events
    Events(EventsArgs),
    /// Watch the file of a running stack and keep the stack equal to it
    Watch,
    /// Internal: the container's init (pid 1)
    #[command(name = "__init", hide = true)]
    Init,
    /// Internal: run a command inside a running container (probes)
    #[command(name = "__exec", hide = true)]
    InternalExec(InternalExecArgs),
    /// Internal: copy files into a running container (`develop.watch` sync)
    #[command(name = "__sync", hide = true)]
    InternalSync {
        /// Host pid of the container's init
        pid: i32,
        /// Refuse if the pid's start time (field 22 of its stat) differs
        #[arg(long)]
        start_time: Option<u64>,
    },
    /// Internal: the project's resolver
    #[command(name = "__dns", hide = true)]
    InternalDns {
        /// The table file the supervisor writes
        table: std::path::PathBuf,
        /// Addresses to answer on (`ip:53`)
        listen: Vec<std::net::SocketAddr>,
    },
    /// Internal: the detached supervisor
    #[command(name = "__supervise", hide = true)]
    Supervise(UpArgs),
}

#[derive(Debug, Clone, Args, Default)]
pub struct UpArgs {
    /// Services to bring up (with their dependencies) [default: all]
    pub services: Vec<String>,
    /// Detached: start a background supervisor and return
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// With -d: wait until every service is healthy or completed
    #[arg(long)]
    pub wait: bool,
    /// Seconds `--wait` waits at most
    #[arg(long, value_name = "SECONDS")]
    pub wait_timeout: Option<u64>,
    /// Print the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Remove containers of services no longer in the file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Recreate containers even if their config did not change
    #[arg(long, conflicts_with = "no_recreate")]
    pub force_recreate: bool,
    /// Never recreate existing containers
    #[arg(long)]
    pub no_recreate: bool,
    /// Do not start the dependencies of the named services
    #[arg(long)]
    pub no_deps: bool,
    /// Keep the stack equal to the file while it is edited
    #[arg(long)]
    pub watch: bool,
    /// Run N replicas of SERVICE whatever the file says (until the next
    /// `up`); repeat for several services
    #[arg(long, value_name = "SERVICE=N", value_parser = parse_scale)]
    pub scale: Vec<(String, u32)>,
}

/// `stack scale` arguments.
#[derive(Debug, Clone, Args)]
pub struct ScaleArgs {
    /// What to run: SERVICE=N, one or more
    #[arg(required = true, value_name = "SERVICE=N", value_parser = parse_scale)]
    pub services: Vec<(String, u32)>,
    /// Do not start the services' dependencies
    #[arg(long)]
    pub no_deps: bool,
}

/// `web=3`.
fn parse_scale(s: &str) -> Result<(String, u32), String> {
    let bad = || format!("expected SERVICE=N with N a number of replicas (0 to 1000), found {s:?}");
    let (name, n) = s.split_once('=').ok_or_else(bad)?;
    let n: u32 = n.trim().parse().map_err(|_| bad())?;
    if name.is_empty() || n > 1000 {
        return Err(bad());
    }
    Ok((name.to_string(), n))
}

#[derive(Debug, Clone, Args)]
pub struct DownArgs {
    /// Also remove named volumes
    #[arg(short = 'v', long)]
    pub volumes: bool,
    /// Seconds to wait for a graceful stop before SIGKILL
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Remove containers of services no longer in the file too
    #[arg(long)]
    pub remove_orphans: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Yaml,
}

#[derive(Debug, Clone, Args)]
pub struct PortArgs {
    pub service: String,
    /// The container's port (`80`, or `53/udp`)
    pub private_port: String,
    /// tcp or udp
    #[arg(long, default_value = "tcp")]
    pub protocol: String,
}

#[derive(Debug, Clone, Args)]
pub struct PsArgs {
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Show all containers, also stopped ones
    #[arg(short = 'a', long)]
    pub all: bool,
}

#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// Services whose output to show (a replica as `web#2`) [default: all]
    pub services: Vec<String>,
    /// Follow the output (`-f` after `logs` also means this, as in Compose)
    #[arg(long)]
    pub follow: bool,
    /// Number of lines from the end of each log
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
    /// Show timestamps
    #[arg(short = 't', long)]
    pub timestamps: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// Disable TTY allocation
    #[arg(short = 'T', long = "no-tty")]
    pub no_tty: bool,
    /// Set an environment variable (KEY=VALUE, repeatable)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    /// User (name or uid[:gid]) inside the container
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Which replica, when the service has several
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub index: u32,
    /// The service whose container runs the command
    pub service: String,
    /// The command and its arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    pub command: Vec<String>,
}

/// Arguments of the hidden `__exec` verb (see `runtime::spawn::exec_helper_command`).
#[derive(Debug, Clone, Args)]
pub struct InternalExecArgs {
    /// Host pid of the container's init
    #[arg(long)]
    pub pid: i32,
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Capabilities to keep, comma-separated
    #[arg(long, value_delimiter = ',')]
    pub caps: Option<Vec<String>>,
    /// The container's seccomp filter (hex, as `SeccompProgram::to_hex`)
    #[arg(long)]
    pub seccomp: Option<String>,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    pub command: Vec<String>,
}

impl InternalExecArgs {
    fn run(&self) -> i32 {
        let x = InternalExec {
            pid: self.pid,
            command: self.command.clone(),
            env: self.env.clone(),
            workdir: self.workdir.clone(),
            user: self.user.clone(),
            tty: self.tty,
            caps: self.caps.clone(),
            seccomp: self.seccomp.clone(),
        };
        match project::internal_exec(&x) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("stack: {e}");
                126
            }
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServicesArgs {
    /// Services to act on (a replica as `web#2`) [default: all]
    pub services: Vec<String>,
    /// Seconds to wait for a graceful stop before SIGKILL
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}

#[derive(Debug, Clone, Args)]
pub struct EventsArgs {
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

/// The project a verb acts on. With `-p` the file is optional (so `ps`,
/// `logs`, `down` work after the file is gone); without it the file names
/// the project.
pub fn project(global: &GlobalArgs) -> anyhow::Result<Project> {
    Ok(Project::open(global.load_options())?
        .verbose(global.verbose)
        .on_progress(progress))
}

/// The project of a file that must be read (`up`, `plan`), with the named
/// services in it.
pub fn project_of_file(global: &GlobalArgs, services: &[String]) -> anyhow::Result<Project> {
    Ok(Project::load(global.load_options(), services)?
        .verbose(global.verbose)
        .on_progress(progress))
}

/// What happens while a verb runs, printed as it happens.
fn progress(p: Progress) {
    match p {
        Progress::Waiting(m) => eprintln!("{m}"),
        Progress::Warning(w) => eprintln!("stack: {w}"),
        Progress::Service { service, state } => println!("{service}  {state}"),
        Progress::UpToDate => eprintln!("nothing to do: the stack is up to date"),
        Progress::DownRefused(e) => eprintln!(
            "stack: the supervisor could not take the stack down ({e}); cleaning up directly"
        ),
        Progress::DownFailed(e) => eprintln!("stack: {e}; cleaning up directly"),
        Progress::Settled => eprintln!("stack: the stack has settled"),
        Progress::Image(m) => eprintln!("{m}"),
    }
}

/// Whether stdout is a terminal (colour, TTY for exec).
pub fn is_tty(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

/// `stack logs -f` follows, as in Compose, while `-f FILE` before the verb
/// names the file: rewrite a `-f` after `logs` to `--follow`.
fn compose_args(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut i = 1;
    // Skip global options (and their values) before the verb.
    while i < args.len() {
        let a = args[i].to_string_lossy();
        if matches!(
            a.as_ref(),
            "-f" | "--file" | "-p" | "--project-name" | "--profile" | "--env-file"
        ) {
            i += 2;
        } else if a.starts_with('-') {
            i += 1;
        } else {
            break;
        }
    }
    if args.get(i).is_some_and(|v| v == "logs") {
        for a in args.iter_mut().skip(i + 1) {
            if a == "-f" {
                *a = "--follow".into();
            } else if a == "--" {
                break;
            }
        }
    }
    args
}

/// Entry point; returns the process exit code. Errors are printed as
/// `stack: <message>` and exit with 1.
pub fn main() -> i32 {
    // The container's init skips argument parsing: it must stay small.
    if std::env::args_os().nth(1).as_deref() == Some(std::ffi::OsStr::new("__init")) {
        return project::init_main();
    }
    let cli = Cli::parse_from(compose_args(std::env::args_os().collect()));
    log::init(cli.global.verbose);
    let result = match &cli.command {
        Command::Config(args) => config::run(&cli.global, args),
        Command::Up(args) => up::run(&cli.global, args, false),
        Command::Plan(args) => up::run(&cli.global, args, true),
        Command::Scale(args) => up::scale(&cli.global, args),
        Command::Supervise(args) => up::supervise(&cli.global, args),
        Command::Down(args) => down::run(&cli.global, args),
        Command::Ps(args) => ps::run(&cli.global, args),
        Command::Port(args) => ps::port(&cli.global, args),
        Command::Pull(args) => images::pull(&cli.global, args),
        Command::Images(args) => images::images(&cli.global, args),
        Command::Image(cmd) => images::image(cmd),
        Command::Volume(cmd) => volumes::run(cmd),
        Command::Ls(args) => ls::run(args),
        Command::Version { format } => ls::version(format),
        Command::Logs(args) => logs::run(&cli.global, args),
        Command::Exec(args) => exec::run(&cli.global, args),
        Command::InternalExec(args) => Ok(args.run()),
        Command::Stop(args) => lifecycle::stop(&cli.global, args),
        Command::Start(args) => lifecycle::start(&cli.global, args),
        Command::Restart(args) => lifecycle::restart(&cli.global, args),
        Command::Kill(args) => processes::kill(&cli.global, args),
        Command::Top(args) => processes::top(&cli.global, args),
        Command::Events(args) => events::run(&cli.global, args),
        Command::Init => Ok(project::init_main()),
        Command::Watch => watch::run(&cli.global),
        Command::InternalDns { table, listen } => {
            project::dns_main(table, listen.clone()).map_err(anyhow::Error::from)
        }
        Command::InternalSync { pid, start_time } => {
            project::sync_main(*pid, *start_time).map_err(anyhow::Error::from)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprint!("{}", error_text(&e));
            e.downcast_ref::<project::ProjectError>()
                .map_or(1, project::ProjectError::exit_code)
        }
    }
}

/// `stack: ` and the error with its causes, each cause once (a message
/// that already quotes its source does not get it twice), every line
/// prefixed.
fn error_text(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let c = cause.to_string();
        if msg.contains(&c) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&c);
    }
    msg.lines().map(|l| format!("stack: {l}\n")).collect()
}
