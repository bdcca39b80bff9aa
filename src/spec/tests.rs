//! Loader tests: every error kind by its message, line and column.

use super::units::{Bytes, Cpus, Millis};
use super::*;
use std::collections::BTreeMap;

/// A scratch directory holding the stack file (so relative paths resolve).
struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        Dir(tempfile::tempdir().unwrap())
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
    fn file(&self) -> PathBuf {
        self.0.path().join("stack.yaml")
    }
    fn write(&self, name: &str, text: &str) {
        let p = self.0.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    fn mkdir(&self, name: &str) {
        std::fs::create_dir_all(self.0.path().join(name)).unwrap();
    }
}

fn opts() -> LoadOptions {
    LoadOptions {
        project_name: Some("t".into()),
        ..Default::default()
    }
}

fn load_in(
    d: &Dir,
    yaml: &str,
    vars: &[(&str, &str)],
    o: &LoadOptions,
) -> Result<(Stack, Vec<String>), Vec<String>> {
    let vars: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    match load_from_str(yaml, &d.file(), vars, o) {
        Ok(x) => Ok(x),
        Err(LoadError::Invalid(v)) => Err(v),
        Err(e) => Err(vec![e.to_string()]),
    }
}

fn ok(yaml: &str) -> Stack {
    let d = Dir::new();
    match load_in(&d, yaml, &[], &opts()) {
        Ok((s, _)) => s,
        Err(e) => panic!("expected to load, got:\n{}", e.join("\n")),
    }
}

/// Errors with the file prefix stripped: `LINE:COL: path: message`.
fn errs_in(d: &Dir, yaml: &str, vars: &[(&str, &str)], o: &LoadOptions) -> Vec<String> {
    let prefix = format!("{}:", d.file().display());
    match load_in(d, yaml, vars, o) {
        Ok(_) => panic!("expected errors for:\n{yaml}"),
        Err(e) => e
            .into_iter()
            .map(|l| l.strip_prefix(&prefix).unwrap_or(&l).to_string())
            .collect(),
    }
}

fn errs(yaml: &str) -> Vec<String> {
    errs_in(&Dir::new(), yaml, &[], &opts())
}

fn one_err(yaml: &str) -> String {
    let e = errs(yaml);
    assert_eq!(e.len(), 1, "expected one error, got {e:#?}");
    e[0].clone()
}

const HOST: &str = "rootfs: { host: [/bin/sh] }";

mod compose;
mod image;
mod kernel;
mod misreadings;
mod net;
mod volumes;

#[test]
fn minimal_service_gets_defaults() {
    let s = ok(&format!("services:\n  web:\n    {HOST}\n"));
    let w = &s.services["web"];
    assert_eq!(s.name, "t");
    assert_eq!(w.rootfs, Rootfs::Host(vec!["/bin/sh".into()]));
    assert_eq!(w.stop_signal, "SIGTERM");
    assert_eq!(w.stop_grace_period, Millis(10_000));
    assert!(w.init);
    assert_eq!(w.restart, RestartPolicy::No);
    // Compose's default: the project's `default` network.
    assert_eq!(w.network_mode, NetworkMode::Bridge);
    assert_eq!(w.networks.keys().collect::<Vec<_>>(), ["default"]);
    assert_eq!(w.networks["default"].network, NetworkDef::new("t_default"));
    assert_eq!(s.networks.keys().collect::<Vec<_>>(), ["default"]);
    assert!(w.x_stack.restart_unhealthy);
    assert_eq!(w.argv(), vec!["/bin/sh"]);
}

#[test]
fn issue_example_invalid_size() {
    let d = Dir::new();
    let yaml = format!("services:\n  web:\n    {HOST}\n    deploy:\n      resources:\n        limits:\n          memory: 12XB\n");
    let e = load_in(&d, &yaml, &[], &opts()).unwrap_err();
    assert_eq!(
        e,
        vec![format!(
            "{}:7:19: services.web.deploy.resources.limits.memory: invalid size \"12XB\" (expected e.g. 80M, 1.5G, 1048576)",
            d.file().display()
        )]
    );
}

#[test]
fn reports_all_problems_at_once() {
    let e = errs(&format!(
        "services:\n  web:\n    {HOST}\n    comand: x\n    mem_limit: lots\n  db:\n    {HOST}\n    restart: sometimes\n"
    ));
    assert_eq!(
        e,
        vec![
            "4:5: services.web.comand: unknown key `comand` (did you mean `command`?)",
            "5:16: services.web.mem_limit: invalid size \"lots\" (expected e.g. 80M, 1.5G, 1048576)",
            "8:14: services.db.restart: invalid restart policy \"sometimes\" (expected no, always, on-failure, on-failure:N or unless-stopped)",
        ]
    );
}

#[test]
fn unknown_key_suggestions_at_every_level() {
    assert_eq!(
        errs("servics:\n  a: {}\n"),
        vec!["1:1: servics: unknown key `servics` (did you mean `services`?)"]
    );
    assert_eq!(
        one_err(&format!(
            "services:\n  a:\n    {HOST}\n    healthcheck: {{ test: \"true\", intervl: 1s }}\n"
        )),
        "4:34: services.a.healthcheck.intervl: unknown key `intervl` (did you mean `interval`?)"
    );
    assert_eq!(
        one_err(&format!("services:\n  a:\n    {HOST}\n    deploy: {{ resources: {{ limits: {{ memroy: 1M }} }} }}\n")),
        "4:38: services.a.deploy.resources.limits.memroy: unknown key `memroy` (did you mean `memory`?)"
    );
}

#[test]
fn compose_keys_refused_with_advice() {
    let e = one_err(&format!("services:\n  a:\n    {HOST}\n    build: .\n"));
    assert!(
        e.starts_with("4:5: services.a.build: `build` is not supported: stack has no builds; build the image elsewhere and give it as `image:`"),
        "{e}"
    );
    assert_eq!(
        one_err(&format!("services:\n  a:\n    {HOST}\n    storage_opt: {{ size: 1G }}\n")),
        "4:5: services.a.storage_opt: `storage_opt` is a Compose key stack does not support yet; remove it"
    );
    assert_eq!(
        one_err(&format!("services:\n  a:\n    {HOST}\nmodels: {{}}\n")),
        "4:1: models: `models` is a Compose key stack does not support yet; remove it"
    );
    assert_eq!(
        one_err(&format!("services:\n  a:\n    {HOST}\n    external_links: [x]\n")),
        "4:5: services.a.external_links: `external_links` is a Compose key stack does not support yet; remove it"
    );
    assert_eq!(
        one_err(&format!("services:\n  a:\n    {HOST}\n    deploy: {{ mode: global }}\n")),
        "4:15: services.a.deploy.mode: `mode` is a Compose key stack does not support yet; remove it"
    );
    assert_eq!(
        one_err(&format!("services:\n  a:\n    {HOST}\n    network_mode: container:b\n")),
        "4:19: services.a.network_mode: network_mode \"container:b\" is not supported yet; use service:NAME to share the network namespace of a service of this file"
    );
}

#[test]
fn x_keys_ignored_everywhere() {
    let s = ok(&format!(
        "x-common: &c {{ restart: always }}\nservices:\n  x-hidden: 3\n  a:\n    <<: *c\n    {HOST}\n    x-note: hi\n    healthcheck: {{ test: \"true\", x-foo: 1 }}\n    depends_on: {{ x-why: 1 }}\n    ulimits: {{ x-u: 1 }}\n    deploy: {{ x-d: 1, resources: {{ x-r: 1, limits: {{ x-l: 1 }} }} }}\nvolumes: {{ x-v: 1 }}\n"
    ));
    assert!(s.services["a"].depends_on.is_empty());
    assert!(s.volumes.is_empty());
    assert_eq!(s.services.len(), 1);
    assert_eq!(s.services["a"].restart, RestartPolicy::Always);
}

#[test]
fn bad_documents() {
    assert_eq!(
        one_err(""),
        "1:1: the file is empty; a stack file is a map with `services:` (see examples/cola-wars/stack.yaml)"
    );
    assert_eq!(
        one_err("- a\n- b\n"),
        "1:1: expected a map with `services:` at the top of the file, found a list"
    );
    assert_eq!(
        one_err("hello\n"),
        "1:1: expected a map with `services:` at the top of the file, found a scalar"
    );
    assert_eq!(
        one_err("services:\n  web:\n"),
        "2:3: services.web: service `web` is empty; it needs at least `image` or `rootfs`"
    );
    // No services is a project too, as in Compose.
    assert!(ok("services:\n").services.is_empty());
    assert!(ok("name: x\nvolumes: { data: {} }\n").services.is_empty());
    let e = one_err("services:\n\tweb:\n\t\trootfs: /\n");
    assert!(
        e.starts_with("2:2: invalid YAML:")
            && e.ends_with("(YAML indentation must use spaces, not tabs)"),
        "{e}"
    );
    let e = one_err("services: [\n");
    assert!(e.contains("invalid YAML"), "{e}");
    let d = Dir::new();
    let src = sources::Source {
        shown: d.file(),
        abs: d.file(),
        bytes: vec![b'a', b':', b' ', 0xff, 0xfe],
    };
    let r = load_str(&mut vec![src], d.path(), Default::default(), &opts());
    assert_eq!(
        r.0.unwrap_err(),
        vec![format!(
            "{}:1:4: the file is not UTF-8 text (is it a stack file?)",
            d.file().display()
        )]
    );
    let e = one_err("services:\n  a: &x\n    rootfs: *nope\n");
    assert!(e.starts_with("3:13: ") && e.contains("alias"), "{e}");
}

#[test]
fn duplicate_keys() {
    assert_eq!(
        one_err(&format!(
            "services:\n  a:\n    {HOST}\n    user: x\n    user: y\n"
        )),
        "5:5: duplicate key `user` (first defined at line 4, column 5)"
    );
    assert_eq!(
        one_err(&format!(
            "services:\n  a:\n    {HOST}\n    environment: [A=1, A=2]\n"
        )),
        "4:24: services.a.environment[1]: duplicate key `A` (first defined at line 4, column 19)"
    );
}

#[test]
fn merge_keys_and_anchors() {
    let s = ok(&format!(
        "x-limits: &limits\n  mem_limit: 80M\n  cpus: \"0.05\"\nx-env: &env\n  environment: {{ A: \"1\", B: \"2\" }}\nservices:\n  a:\n    <<: [*limits, *env]\n    {HOST}\n    cpus: \"0.5\"\n  b:\n    <<: *limits\n    {HOST}\n"
    ));
    let a = &s.services["a"];
    assert_eq!(a.limits.memory, Some(Bytes(80 << 20)));
    assert_eq!(
        a.limits.cpus,
        Some(Cpus(500)),
        "explicit key wins over merged"
    );
    assert_eq!(a.environment["B"], "2");
    assert_eq!(s.services["b"].limits.cpus, Some(Cpus(50)));
}

#[test]
fn interpolation_in_file() {
    let d = Dir::new();
    let yaml = format!("services:\n  a:\n    {HOST}\n    mem_limit: ${{MEM:-64M}}\n    command: echo $$HOME ${{WHO}}\n    environment:\n      X: ${{UNSET}}\n      Y: ${{UNSET}}\n");
    let (s, warnings) = load_in(&d, &yaml, &[("WHO", "me")], &opts()).unwrap();
    let a = &s.services["a"];
    assert_eq!(a.limits.memory, Some(Bytes(64 << 20)));
    assert_eq!(
        a.command,
        Some(vec!["echo".into(), "$HOME".into(), "me".into()])
    );
    assert_eq!(a.environment["X"], "");
    assert_eq!(warnings.len(), 1, "one warning per variable: {warnings:?}");
    assert!(warnings[0].contains("`UNSET` is not set"));

    let e = errs_in(
        &d,
        &format!("services:\n  a:\n    {HOST}\n    user: ${{U:?set U to the user}}\n"),
        &[],
        &opts(),
    );
    assert_eq!(
        e,
        vec!["4:11: services.a.user: variable `U` is required: set U to the user"]
    );
    // A `$` that starts no variable stays, as in Compose.
    let (s, w) = load_in(
        &d,
        &format!("services:\n  a:\n    {HOST}\n    user: a$b$\n"),
        &[],
        &opts(),
    )
    .unwrap();
    assert_eq!(s.services["a"].user.as_deref(), Some("a$"));
    assert_eq!(w.len(), 1, "{w:?}");
}

#[test]
fn env_dot_file_process_env_and_env_file_option() {
    let d = Dir::new();
    d.write(".env", "MEM=100M\nTAG=dotenv\n");
    d.write("other.env", "MEM=200M\n");
    d.write(
        "stack.yaml",
        &format!("services:\n  a:\n    {HOST}\n    mem_limit: $MEM\n    labels: {{ tag: \"${{TAG:-none}}\" }}\n"),
    );
    let o = LoadOptions {
        files: vec![d.file()],
        ..opts()
    };
    let s = load(&o).unwrap();
    assert_eq!(s.services["a"].limits.memory, Some(Bytes(100 << 20)));
    assert_eq!(s.services["a"].labels["tag"], "dotenv");
    let o = LoadOptions {
        env_file: Some(d.path().join("other.env")),
        ..o
    };
    let s = load(&o).unwrap();
    assert_eq!(s.services["a"].limits.memory, Some(Bytes(200 << 20)));
    assert_eq!(
        s.services["a"].labels["tag"], "none",
        "--env-file replaces .env"
    );
    let o = LoadOptions {
        env_file: Some(d.path().join("missing.env")),
        ..o
    };
    assert!(matches!(load(&o), Err(LoadError::Read { .. })));
}

#[test]
fn environment_and_env_files() {
    let d = Dir::new();
    d.write("a.env", "A=from_file\nB=file\n# comment\nC=keep\n");
    let yaml = format!(
        "services:\n  s:\n    {HOST}\n    env_file: [a.env, {{ path: missing.env, required: false }}]\n    environment:\n      - B=env\n      - FROM_HOST\n      - NOT_SET_ANYWHERE\n"
    );
    let (s, _) = load_in(&d, &yaml, &[("FROM_HOST", "h")], &opts()).unwrap();
    let env = &s.services["s"].environment;
    assert_eq!(env["A"], "from_file");
    assert_eq!(env["B"], "env");
    assert_eq!(env["C"], "keep");
    assert_eq!(env["FROM_HOST"], "h");
    assert!(!env.contains_key("NOT_SET_ANYWHERE"));
    let e = errs_in(
        &d,
        &format!("services:\n  s:\n    {HOST}\n    env_file: nope.env\n"),
        &[],
        &opts(),
    );
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("4:15: services.s.env_file: cannot read env file "),
        "{e:?}"
    );
}

#[test]
fn limits_folded_and_conflicts() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    mem_limit: 80m\n    deploy: {{ resources: {{ limits: {{ memory: 80M, cpus: \"0.05\", pids: 64 }}, reservations: {{ memory: 40M }} }} }}\n    memswap_limit: -1\n    cpu_shares: 512\n    cpuset: 0-1,3\n"
    ));
    let l = &s.services["a"].limits;
    assert_eq!(l.memory, Some(Bytes(80 << 20)));
    assert_eq!(l.cpus, Some(Cpus(50)));
    assert_eq!(l.pids, Some(64));
    assert_eq!(l.memory_reservation, Some(Bytes(40 << 20)));
    assert_eq!(l.memswap, Some(-1));
    assert_eq!(l.cpu_shares, Some(512));
    assert_eq!(l.cpuset.as_deref(), Some("0-1,3"));
    assert_eq!(
        one_err(&format!("services:\n  a:\n    {HOST}\n    mem_limit: 80M\n    deploy: {{ resources: {{ limits: {{ memory: 90M }} }} }}\n")),
        "5:46: services.a.deploy.resources.limits.memory: 90M conflicts with services.a.mem_limit: 80M (give this limit once)"
    );
    assert_eq!(
        one_err(&format!("services:\n  a:\n    {HOST}\n    cpus: 0\n")),
        "4:11: services.a.cpus: invalid cpus \"0\" (must be at least 0.001; remove the key for no limit)"
    );
}

#[test]
fn rootfs_forms() {
    let d = Dir::new();
    d.mkdir("root");
    d.write("img.tar.gz", "");
    d.write("sub/img.TGZ", "");
    let yaml = "services:\n  a: { rootfs: ./root }\n  b: { rootfs: img.tar.gz }\n  c: { rootfs: sub/../sub/img.TGZ }\n  e: { rootfs: { debootstrap: { suite: bookworm, variant: minbase } } }\n";
    let (s, _) = load_in(&d, yaml, &[], &opts()).unwrap();
    let base = load::normalize(&std::path::absolute(d.path()).unwrap());
    assert_eq!(s.services["a"].rootfs, Rootfs::Dir(base.join("root")));
    assert_eq!(s.services["b"].rootfs, Rootfs::Tar(base.join("img.tar.gz")));
    assert_eq!(
        s.services["c"].rootfs,
        Rootfs::Tar(base.join("sub/img.TGZ"))
    );
    assert!(matches!(&s.services["e"].rootfs, Rootfs::Debootstrap(d) if d.suite == "bookworm"));

    let e = errs_in(&d, "services:\n  a:\n    rootfs: ./nope\n", &[], &opts());
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("3:13: services.a.rootfs: rootfs directory \"./nope\" not found"),
        "{e:?}"
    );
    let e = errs_in(&d, "services:\n  a:\n    rootfs: x.tar\n", &[], &opts());
    assert!(
        e[0].starts_with("3:13: services.a.rootfs: rootfs tarball \"x.tar\" not found"),
        "{e:?}"
    );
    assert_eq!(
        one_err("services:\n  a:\n    rootfs: { host: [sh] }\n"),
        "3:22: services.a.rootfs.host[0]: host binary \"sh\" must be an absolute path (e.g. /bin/sh)"
    );
    assert_eq!(
        one_err("services:\n  a:\n    rootfs: { host: [/bin/sh], debootstrap: { suite: x } }\n"),
        "3:13: services.a.rootfs: rootfs takes exactly one of `host` or `debootstrap`, not both"
    );
    assert_eq!(
        one_err("services:\n  a:\n    rootfs: { hots: [/bin/sh] }\n"),
        "3:15: services.a.rootfs.hots: unknown key `hots` (did you mean `host`?)"
    );
}

#[test]
fn healthcheck_forms() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    healthcheck: {{ test: [CMD-SHELL, \"curl -f x || exit 1\"], interval: 1s, retries: 5 }}\n  b:\n    {HOST}\n    healthcheck: {{ test: [CMD, test, -f, /x] }}\n  c:\n    {HOST}\n    healthcheck: {{ test: [NONE] }}\n  d:\n    {HOST}\n    healthcheck: {{ test: \"true\", disable: true }}\n  e:\n    {HOST}\n    healthcheck: {{ test: sleep 1 }}\n"
    ));
    let a = s.services["a"].healthcheck.as_ref().unwrap();
    assert_eq!(a.test, vec!["/bin/sh", "-c", "curl -f x || exit 1"]);
    assert_eq!(
        (a.interval, a.timeout, a.retries),
        (Millis(1000), Millis(30_000), 5)
    );
    assert_eq!(
        (a.start_period, a.start_interval),
        (Millis(0), Millis(5000))
    );
    assert_eq!(
        s.services["b"].healthcheck.as_ref().unwrap().test,
        vec!["test", "-f", "/x"]
    );
    assert_eq!(s.services["c"].healthcheck, None);
    assert_eq!(s.services["d"].healthcheck, None);
    assert_eq!(
        s.services["e"].healthcheck.as_ref().unwrap().test,
        vec!["/bin/sh", "-c", "sleep 1"]
    );
    assert_eq!(
        one_err(&format!("services:\n  a:\n    {HOST}\n    healthcheck: {{ test: [RUN, x] }}\n")),
        "4:26: services.a.healthcheck.test: a test list starts with \"CMD\", \"CMD-SHELL\" or \"NONE\" (e.g. [\"CMD\", \"true\"])"
    );
    assert_eq!(
        one_err(&format!("services:\n  a:\n    {HOST}\n    healthcheck: {{ test: \"true\", interval: 10x }}\n")),
        "4:44: services.a.healthcheck.interval: invalid duration \"10x\" (expected e.g. 10s, 1m30s, 500ms, 2h)"
    );
}

#[test]
fn restart_signal_grace_init() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    restart: on-failure:3\n    stop_signal: int\n    stop_grace_period: 1m30s\n    init: false\n  b:\n    {HOST}\n    restart: \"no\"\n  c:\n    {HOST}\n    restart: unless-stopped\n    stop_signal: 9\n"
    ));
    let a = &s.services["a"];
    assert_eq!(
        a.restart,
        RestartPolicy::OnFailure {
            max_retries: Some(3)
        }
    );
    assert_eq!(a.stop_signal, "SIGINT");
    assert_eq!(a.stop_grace_period, Millis(90_000));
    assert!(!a.init);
    assert_eq!(s.services["b"].restart, RestartPolicy::No);
    assert_eq!(s.services["c"].restart, RestartPolicy::UnlessStopped);
    assert_eq!(s.services["c"].stop_signal, "SIGKILL");
    assert_eq!(
        one_err(&format!(
            "services:\n  a:\n    {HOST}\n    stop_signal: SIGFOO\n"
        )),
        "4:18: services.a.stop_signal: unknown signal \"SIGFOO\" (e.g. SIGTERM, SIGINT, SIGQUIT)"
    );
    assert_eq!(
        one_err(&format!("services:\n  a:\n    {HOST}\n    init: maybe\n")),
        "4:11: services.a.init: expected true or false, found \"maybe\""
    );
}

#[test]
fn command_forms() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    command: sh -c 'echo \"hi there\"'\n    entrypoint: [/bin/sh]\n"
    ));
    assert_eq!(
        s.services["a"].argv(),
        vec!["/bin/sh", "sh", "-c", "echo \"hi there\""]
    );
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    command: \"echo 'x\"\n"
    ));
    assert!(
        e.starts_with("4:14: services.a.command: cannot split \"echo 'x\" like a shell"),
        "{e}"
    );
}

#[test]
fn volumes_tmpfs_ports_caps_ulimits_labels() {
    let d = Dir::new();
    d.mkdir("html");
    let yaml = format!(
        "services:\n  a:\n    {HOST}\n    volumes:\n      - ./html:/srv:ro\n      - data:/data\n      - {{ type: tmpfs, target: /cache, tmpfs: {{ size: 64M }} }}\n      - {{ type: bind, source: ., target: /src }}\n    tmpfs: /run\n    network_mode: host\n    ports: [\"8080:80\", \"127.0.0.1:53:53/udp\", 9000, {{ target: 443, published: \"8443\" }}]\n    cap_add: [net_admin, CAP_SYS_PTRACE]\n    cap_drop: [ALL]\n    ulimits: {{ nofile: {{ soft: 1024, hard: 4096 }}, NPROC: 64 }}\n    labels: [a=1, b]\n    read_only: true\nvolumes:\n  data:\n"
    );
    let (s, _) = load_in(&d, &yaml, &[], &opts()).unwrap();
    let a = &s.services["a"];
    let base = load::normalize(&std::path::absolute(d.path()).unwrap());
    assert_eq!(
        a.volumes,
        vec![
            Mount::Bind {
                source: base.join("html"),
                target: "/srv".into(),
                read_only: true
            },
            Mount::Volume {
                source: "data".into(),
                target: "/data".into(),
                read_only: false,
                backing: crate::spec::Backing::Project,
            },
            Mount::Tmpfs {
                target: "/cache".into(),
                size: Some(Bytes(64 << 20)),
                mode: None,
            },
            Mount::Bind {
                source: base.clone(),
                target: "/src".into(),
                read_only: false
            },
        ]
    );
    assert_eq!(a.tmpfs, vec!["/run"]);
    assert_eq!(
        a.ports[0],
        Port {
            host_ip: None,
            published: Some("8080".into()),
            target: 80,
            protocol: "tcp".into()
        }
    );
    assert_eq!(
        a.ports[1],
        Port {
            host_ip: Some("127.0.0.1".into()),
            published: Some("53".into()),
            target: 53,
            protocol: "udp".into()
        }
    );
    assert_eq!(a.ports[2].published, None);
    assert_eq!(a.ports[3].published.as_deref(), Some("8443"));
    assert_eq!(a.cap_add, vec!["CAP_NET_ADMIN", "CAP_SYS_PTRACE"]);
    assert_eq!(a.cap_drop, vec!["ALL"]);
    assert_eq!(
        a.ulimits["nofile"],
        Ulimit {
            soft: 1024,
            hard: 4096
        }
    );
    assert_eq!(a.ulimits["nproc"], Ulimit { soft: 64, hard: 64 });
    assert_eq!(a.labels["a"], "1");
    assert_eq!(a.labels["b"], "");
    assert!(a.read_only);
    assert!(s.volumes.contains_key("data"));

    let e = errs_in(&d, &format!("services:\n  a:\n    {HOST}\n    volumes: [\"db:/x\", \"/data\", \"./nope:/y\", \"./html:rel\"]\n    ports: [\"99999:80\"]\n    cap_add: [FLY]\n    ulimits: {{ nofiles: 3 }}\n"), &[], &opts());
    assert_eq!(e.len(), 6, "{e:#?}");
    assert!(
        e[0].starts_with("4:15: services.a.volumes[0]: volume `db` is not declared;"),
        "{e:?}"
    );
    assert!(
        e[1].starts_with("4:33: services.a.volumes[2]: bind source \"./nope\" does not exist"),
        "{e:?}"
    );
    assert_eq!(
        e[2],
        "4:46: services.a.volumes[3]: target \"rel\" must be an absolute path inside the container"
    );
    assert_eq!(
        e[3],
        "5:13: services.a.ports[0]: invalid port \"99999\" (1 to 65535, or a range like 8000-8010)"
    );
    assert_eq!(
        e[4],
        "6:15: services.a.cap_add[0]: unknown capability \"FLY\" (e.g. NET_ADMIN, SYS_PTRACE, ALL)"
    );
    assert!(
        e[5].starts_with("7:16: services.a.ulimits.nofiles: unknown ulimit `nofiles`"),
        "{e:?}"
    );
}

#[test]
fn develop_watch_paths_absolute() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    develop:\n      watch:\n        - {{ path: ./src, action: sync+restart, target: /app, ignore: [\"*.tmp\"] }}\n        - {{ path: stack.yaml, action: restart }}\n"
    ));
    let w = &s.services["a"].develop.as_ref().unwrap().watch;
    assert!(w[0].path.is_absolute() && w[0].path.ends_with("src"));
    assert_eq!(w[0].action, WatchAction::SyncRestart);
    assert_eq!(w[1].action, WatchAction::Restart);
    assert_eq!(
        one_err(&format!("services:\n  a:\n    {HOST}\n    develop: {{ watch: [{{ path: x, action: sync }}] }}\n")),
        "4:24: services.a.develop.watch[0]: `target` is required for sync actions"
    );
}

#[test]
fn depends_on_forms_and_errors() {
    let s = ok(&format!(
        "services:\n  db:\n    {HOST}\n  web:\n    {HOST}\n    depends_on:\n      db: {{ condition: service_healthy, restart: true }}\n      opt: {{ required: false }}\n  worker:\n    {HOST}\n    depends_on: [db]\n"
    ));
    let w = &s.services["web"].depends_on;
    assert_eq!(w.len(), 1, "a missing optional dependency is dropped");
    assert_eq!(
        w["db"],
        Dependency {
            condition: Condition::ServiceHealthy,
            restart: true,
            required: true
        }
    );
    assert_eq!(
        s.services["worker"].depends_on["db"].condition,
        Condition::ServiceStarted
    );

    assert_eq!(
        one_err(&format!("services:\n  web:\n    {HOST}\n    depends_on: [dbb]\n  db:\n    {HOST}\n")),
        "4:18: services.web.depends_on.dbb: service `web` depends on `dbb`, which is not defined (did you mean `db`?)"
    );
    assert_eq!(
        one_err(&format!("services:\n  web:\n    {HOST}\n    depends_on: [web]\n")),
        "4:18: services.web.depends_on[0]: service `web` depends on itself; remove it from its depends_on"
    );
    assert_eq!(
        one_err(&format!("services:\n  alpha:\n    {HOST}\n    depends_on: [beta]\n  beta:\n    {HOST}\n    depends_on: [gamma]\n  gamma:\n    {HOST}\n    depends_on: [alpha]\n")),
        "4:18: services.alpha.depends_on: dependency cycle: alpha → beta → gamma → alpha (remove one of these depends_on)"
    );
    assert_eq!(
        one_err(&format!("services:\n  a:\n    {HOST}\n    depends_on: {{ b: {{ condition: service_ready }} }}\n  b:\n    {HOST}\n")),
        "4:35: services.a.depends_on.b.condition: invalid condition \"service_ready\" (expected service_started, service_healthy or service_completed_successfully)"
    );
}

#[test]
fn profiles() {
    let yaml = format!(
        "services:\n  web:\n    {HOST}\n    depends_on: [debugger]\n  debugger:\n    {HOST}\n    profiles: [debug, dev]\n  tool:\n    {HOST}\n    profiles: [tools]\n"
    );
    let d = Dir::new();
    let e = errs_in(&d, &yaml, &[], &opts());
    assert_eq!(
        e,
        vec!["4:18: services.web.depends_on.debugger: service `web` depends on `debugger`, which is not active: enable its profile with --profile debug or --profile dev"]
    );
    let o = LoadOptions {
        profiles: vec!["dev".into()],
        ..opts()
    };
    let (s, _) = load_in(&d, &yaml, &[], &o).unwrap();
    assert_eq!(
        s.services.keys().collect::<Vec<_>>(),
        vec!["debugger", "web"]
    );
    let o = LoadOptions {
        profiles: vec!["*".into()],
        ..opts()
    };
    let (s, _) = load_in(&d, &yaml, &[], &o).unwrap();
    assert_eq!(s.services.len(), 3);
}

#[test]
fn project_names() {
    let d = Dir::new();
    let yaml = format!("name: Cola-Wars\nservices:\n  a:\n    {HOST}\n");
    let o = LoadOptions::default();
    let (s, _) = load_in(&d, &yaml, &[], &o).unwrap();
    assert_eq!(s.name, "cola-wars");
    let e = errs_in(
        &d,
        &format!("name: \"bad name!\"\nservices:\n  a:\n    {HOST}\n"),
        &[],
        &o,
    );
    assert_eq!(e, vec!["1:7: name: invalid project name \"bad name!\" (use lower case letters, digits, `_` and `-`, starting with a letter or digit)"]);
    let o = LoadOptions {
        project_name: Some("My_Proj".into()),
        ..Default::default()
    };
    let (s, _) = load_in(&d, &yaml, &[], &o).unwrap();
    assert_eq!(s.name, "my_proj", "-p wins over name:");
    // Directory name fallback.
    let sub = d.path().join("my-app");
    std::fs::create_dir_all(&sub).unwrap();
    let r = load_from_str(
        &format!("services:\n  a:\n    {HOST}\n"),
        &sub.join("stack.yaml"),
        BTreeMap::new(),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(r.0.name, "my-app");
}

#[test]
fn null_and_wrong_types() {
    assert_eq!(
        one_err(&format!(
            "services:\n  a:\n    {HOST}\n    cap_add: NET_ADMIN\n"
        )),
        "4:14: services.a.cap_add: expected a list, found a scalar"
    );
    assert_eq!(
        one_err(&format!("services:\n  a:\n    {HOST}\n    user: [a]\n")),
        "4:11: services.a.user: expected a string, found a list"
    );
    assert_eq!(
        one_err("services:\n  a:\n    rootfs: [x]\n"),
        "3:13: services.a.rootfs: expected a path or a map with `host` or `debootstrap`, found a list"
    );
    assert_eq!(
        one_err(&format!("services:\n  \"bad name\":\n    {HOST}\n")),
        "2:3: services.bad name: invalid service name \"bad name\" (letters, digits, `_`, `-` and `.`, starting with a letter or digit)"
    );
}

#[test]
fn config_hash_rules() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    mem_limit: 80M\n  b:\n    {HOST}\n    mem_limit: 80M\n    depends_on: [a]\n"
    ));
    let a = &s.services["a"];
    let h = config_hash(a);
    assert_eq!(h.len(), 64);
    assert!(h.bytes().all(|b| b.is_ascii_hexdigit()));
    let mut a2 = a.clone();
    a2.depends_on = s.services["b"].depends_on.clone();
    a2.profiles = vec!["x".into()];
    assert_eq!(config_hash(&a2), h, "depends_on and profiles are excluded");
    a2.limits.memory = Some(Bytes(81 << 20));
    assert_ne!(config_hash(&a2), h);
    assert_eq!(config_hash(&a.clone()), h, "deterministic");
}

#[test]
fn service_json_round_trip() {
    let d = Dir::new();
    d.mkdir("html");
    let yaml = format!(
        "services:\n  a:\n    {HOST}\n    restart: on-failure\n    healthcheck: {{ test: \"true\" }}\n    volumes: [\"./html:/srv\", {{ type: tmpfs, target: /t }}]\n    ulimits: {{ nofile: 10 }}\n    network_mode: host\n    ports: [\"80\"]\n    develop: {{ watch: [{{ path: ., action: rebuild }}] }}\n    deploy: {{ resources: {{ limits: {{ cpus: \"1.5\", memory: 1G }} }} }}\n"
    );
    let (s, _) = load_in(&d, &yaml, &[], &opts()).unwrap();
    let json = serde_json::to_string(&s).unwrap();
    let back: Stack = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    let yaml_out = serde_yaml::to_string(&s).unwrap();
    let back: Stack = serde_yaml::from_str(&yaml_out).unwrap();
    assert_eq!(back, s);
}

#[test]
fn known_keys_match_the_schema() {
    // Every key the schema declares for a service is handled by the loader
    // (i.e. not reported as unknown or unsupported).
    for key in load::known_keys("ServiceFile") {
        let yaml = format!("services:\n  a:\n    {HOST}\n    {key}: null\n");
        let d = Dir::new();
        if let Err(e) = load_in(&d, &yaml, &[], &opts()) {
            assert!(
                !e.iter()
                    .any(|l| l.contains("unknown key") || l.contains("does not support")),
                "{key}: {e:?}"
            );
        }
    }
    assert!(load::known_keys("ServiceFile").len() > 30);
}

#[test]
fn interpolation_error_paths_in_lists_and_maps() {
    let e = errs(&format!(
        "services:\n  a:\n    {HOST}\n    command: [echo, \"${{X:?no x}}\"]\n    labels: {{ k: \"${{Y:?no y}}\" }}\n"
    ));
    assert_eq!(
        e,
        vec![
            "4:21: services.a.command[1]: variable `X` is required: no x",
            "5:18: services.a.labels.k: variable `Y` is required: no y",
        ]
    );
}

/// One line per remaining error kind: the service body (indented under
/// `services: a:` after the rootfs line, so it starts on line 4) and the
/// exact `LINE:COL: path: message` expected.
#[test]
fn every_other_error_kind() {
    let cases: &[(&str, &str)] = &[
        ("working_dir: srv", "4:18: services.a.working_dir: working_dir \"srv\" must be an absolute path inside the container"),
        ("hostname: \"a b\"", "4:15: services.a.hostname: invalid hostname \"a b\" (letters, digits, `-` and `.`, at most 64)"),
        ("tmpfs: [run]", "4:13: services.a.tmpfs[0]: tmpfs target \"run\" must be an absolute path"),
        ("mem_limit: 80M\n    memswap_limit: 40M", "5:20: services.a.memswap_limit: memswap_limit (40M) must be at least the memory limit (80M)"),
        ("cpu_shares: 1", "4:17: services.a.cpu_shares: cpu_shares 1 out of range (2 to 262144)"),
        ("cpuset: \"0-\"", "4:13: services.a.cpuset: invalid cpuset \"0-\" (expected e.g. 0-1,3)"),
        ("pids_limit: many", "4:17: services.a.pids_limit: expected an integer, found \"many\""),
        ("env_file: [{ required: false }]", "4:16: services.a.env_file[0]: `path` is required"),
        ("ulimits: { nofile: { soft: 10, hard: 5 } }", "4:24: services.a.ulimits.nofile: soft limit 10 is above hard limit 5"),
        ("ulimits: { nofile: { soft: 10 } }", "4:24: services.a.ulimits.nofile: both `soft` and `hard` are required"),
        ("ports: [{ published: 80 }]", "4:13: services.a.ports[0]: `target` is required"),
        ("ports: [\"8000:80-81\"]", "4:13: services.a.ports[0]: port ranges differ in size: host 8000 is 1 port, container 80-81 is 2 ports; give ranges of the same size"),
        ("ports: [\"1.2.3:80:80\"]", "4:13: services.a.ports[0]: invalid host IP \"1.2.3\" in port \"1.2.3:80:80\""),
        ("depends_on: [b, b]\n  b:\n    rootfs: { host: [/bin/sh] }", "4:21: services.a.depends_on[1]: `b` is listed twice"),
        ("x-stack: { restart_unhealty: true }", "4:16: services.a.x-stack.restart_unhealty: unknown key `restart_unhealty` (did you mean `restart_unhealthy`?)"),
        ("healthcheck: { interval: 1s }", "4:18: services.a.healthcheck: healthcheck needs `test` (e.g. test: [\"CMD\", \"true\"]), or `disable: true`"),
        ("healthcheck: { test: [CMD] }", "4:26: services.a.healthcheck.test: `CMD` needs a command after it"),
        ("healthcheck: { test: \"true\", timeout: 0s }", "4:18: services.a.healthcheck.timeout: timeout must be greater than 0"),
        ("healthcheck: { test: \"true\", retries: -1 }", "4:43: services.a.healthcheck.retries: expected a non-negative integer, found \"-1\""),
        ("volumes: [{ type: bind, source: /tmp }]", "4:15: services.a.volumes[0]: `target` is required"),
        ("volumes: [{ type: npipe, source: x, target: /x }]", "4:23: services.a.volumes[0].type: volume type \"npipe\" is not supported (use bind, volume or tmpfs)"),
        ("volumes: [{ type: volume, source: ./data, target: /x }]\nvolumes: { data: {} }", "4:15: services.a.volumes[0]: source \"./data\" does not fit type volume (a path is a bind source: write `type: bind`)"),
        ("volumes: [\"/tmp:/x:z\"]", "4:15: services.a.volumes[0]: volume option \"z\" is not supported (use ro or rw)"),
        ("volumes: [{ type: bind, source: /tmp, target: /x, bind: { propagation: rshared } }]", "4:63: services.a.volumes[0].bind.propagation: `propagation` is a Compose key stack does not support yet; remove it"),
        ("develop: { watch: [{ path: ., action: rerun }] }", "4:43: services.a.develop.watch[0].action: invalid action \"rerun\" (expected restart, sync, sync+restart or rebuild)"),
        ("<<: 3", "4:9: a merge key `<<` takes a map or a list of maps, found a scalar"),
        ("labels: lots", "4:13: services.a.labels: expected a map or a list of KEY=VALUE strings, found a scalar"),
        ("environment: { A: [1] }", "4:23: services.a.environment.A: expected a string, found a list"),
        ("deploy: { resources: { reservations: { pids: 5 } } }", "4:44: services.a.deploy.resources.reservations.pids: `pids` is a Compose key stack does not support yet; remove it"),
        ("restart: on-failure:x", "4:14: services.a.restart: invalid restart policy \"on-failure:x\" (expected no, always, on-failure, on-failure:N or unless-stopped)"),
    ];
    let mut failures = Vec::new();
    for (body, want) in cases {
        let yaml = format!("services:\n  a:\n    {HOST}\n    {body}\n");
        let got = errs(&yaml);
        if got != vec![want.to_string()] {
            failures.push(format!("{body}\n  want: {want}\n  got:  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn top_level_errors() {
    assert_eq!(
        one_err(&format!("services:\n  a:\n    {HOST}\nvolumes:\n  data: {{ driver: flocker }}\n")),
        "5:19: volumes.data.driver: volume driver \"flocker\" is not supported (stack has the `local` driver only); remove `driver`"
    );
    let d = Dir::new();
    let o = LoadOptions {
        project_name: Some("Bad Name".into()),
        ..Default::default()
    };
    assert_eq!(
        errs_in(&d, &format!("services:\n  a:\n    {HOST}\n"), &[], &o),
        vec!["1:1: -p/STACK_PROJECT_NAME: invalid project name \"Bad Name\" (use lower case letters, digits, `_` and `-`, starting with a letter or digit)"]
    );
    let (_, w) = load_in(
        &d,
        &format!("version: \"3.8\"\nservices:\n  a:\n    {HOST}\n"),
        &[],
        &opts(),
    )
    .unwrap();
    assert_eq!(w.len(), 1);
    assert!(
        w[0].ends_with("stack.yaml:1:1: `version` is obsolete and ignored; remove it"),
        "{w:?}"
    );
}

#[test]
fn ports_without_a_network_are_refused_not_ignored() {
    let e = one_err(&format!(
        "services:\n  web:\n    {HOST}\n    network_mode: none\n    ports: [\"8080:80\"]\n"
    ));
    assert_eq!(e, "5:12: services.web.ports: `ports` cannot be set with network_mode: none (the container has only loopback); remove it or the network_mode");
}

#[test]
fn inputs_list_every_file_the_stack_came_from() {
    let d = Dir::new();
    d.write(
        "stack.yaml",
        &format!("services:\n  a:\n    {HOST}\n    env_file: [a.env, {{ path: opt.env, required: false }}]\n  b:\n    {HOST}\n    env_file: a.env\n"),
    );
    d.write("a.env", "X=1\n");
    let o = LoadOptions {
        files: vec![d.path().join("stack.yaml")],
        project_name: Some("t".into()),
        ..Default::default()
    };
    let s = super::load(&o).unwrap();
    let p = |n: &str| d.path().join(n);
    // The stack file, `.env` (even when missing), then each env_file once,
    // also a missing optional one (creating it changes the stack).
    assert_eq!(
        s.inputs,
        vec![p("stack.yaml"), p(".env"), p("a.env"), p("opt.env")]
    );
    let o = LoadOptions {
        env_file: Some(p("vars.env")),
        ..o
    };
    d.write("vars.env", "");
    let s = super::load(&o).unwrap();
    assert_eq!(s.inputs[1], p("vars.env"));
}

#[test]
fn security_keys_load_and_bad_ones_say_where() {
    let d = Dir::new();
    d.write(
        "ok.json",
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    d.write("bad.json", "{\n  \"defaultAction\": \"SCMP_ACT_NOPE\"\n}\n");
    let yaml = format!(
        "services:\n  a:\n    {HOST}\n    privileged: true\n    cap_drop: [NET_RAW]\n    security_opt: [\"seccomp=./ok.json\", \"no-new-privileges:false\"]\n    devices: [\"/dev/fuse\", \"/dev/sdb:/dev/xvdb:r\"]\n    device_cgroup_rules: [\"c  10:200   rwm\"]\n    shm_size: 128M\n    tmpfs: [\"/run:size=1m,mode=0755\"]\n"
    );
    let (s, _) = load_in(&d, &yaml, &[], &opts()).unwrap();
    let sec = &s.services["a"].security;
    assert!(sec.privileged);
    assert!(!sec.no_new_privileges);
    assert!(matches!(&sec.seccomp, Seccomp::Profile { path, .. } if path.ends_with("ok.json")));
    assert_eq!(sec.devices.len(), 2);
    assert_eq!(sec.devices[1].container, "/dev/xvdb");
    assert_eq!(sec.devices[1].permissions, "r");
    assert_eq!(sec.device_cgroup_rules, vec!["c 10:200 rwm"]);
    assert_eq!(sec.shm_size, Some(Bytes(128 << 20)));
    assert_eq!(
        s.services["a"].tmpfs,
        vec!["/run:size=1m,mode=0755".to_string()]
    );
    // The profile file is watched with the stack file.
    assert!(s.inputs.iter().any(|p| p.ends_with("ok.json")));
    // Defaults: Docker's profile, no_new_privs on, nothing passed through.
    let plain = ok(&format!("services:\n  a:\n    {HOST}\n"));
    assert_eq!(plain.services["a"].security, Security::default());
    assert!(Security::default().no_new_privileges);

    let e = errs_in(
        &d,
        &format!("services:\n  a:\n    {HOST}\n    security_opt: [seccomp=./bad.json]\n"),
        &[],
        &opts(),
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("4:20: services.a.security_opt[0]: invalid seccomp profile ")
            && e[0].contains("bad.json:")
            && e[0].contains("unknown action \"SCMP_ACT_NOPE\""),
        "{e:?}"
    );
    let e = errs_in(
        &d,
        &format!("services:\n  a:\n    {HOST}\n    security_opt: [seccomp=./missing.json]\n"),
        &[],
        &opts(),
    );
    assert!(
        e[0].contains("cannot read seccomp profile") && e[0].contains("missing.json"),
        "{e:?}"
    );
    for (line, want) in [
        ("security_opt: [apparmor=unconfined]", "4:20: services.a.security_opt[0]: `apparmor` is not supported"),
        ("security_opt: [label=disable]", "4:20: services.a.security_opt[0]: `label` is not supported"),
        ("security_opt: [seccomp]", "4:20: services.a.security_opt[0]: unknown security option \"seccomp\""),
        ("devices: [dev/fuse]", "4:15: services.a.devices[0]: invalid device \"dev/fuse\": the host path must be absolute"),
        ("devices: [\"/dev/a:/etc/b\"]", "4:15: services.a.devices[0]: invalid device \"/dev/a:/etc/b\": the container path must be under /dev/"),
        ("device_cgroup_rules: [\"c 1:3 rwx\"]", "4:27: services.a.device_cgroup_rules[0]: invalid device cgroup rule \"c 1:3 rwx\""),
        // What the runtime would refuse is refused here, with the place.
        ("device_cgroup_rules: [\"c 5000:1 r\"]", "4:27: services.a.device_cgroup_rules[0]: invalid device cgroup rule \"c 5000:1 r\""),
        ("device_cgroup_rules: [\"c +1:1 r\"]", "4:27: services.a.device_cgroup_rules[0]: invalid device cgroup rule \"c +1:1 r\""),
        ("device_cgroup_rules: [\"a 1:3 r\"]", "4:27: services.a.device_cgroup_rules[0]: invalid device cgroup rule \"a 1:3 r\": type a (all devices) only takes *:* rwm"),
        ("shm_size: 1k", "4:15: services.a.shm_size: shm_size \"1k\" is too small"),
        ("tmpfs: [\"/run:uid=1\"]", "4:13: services.a.tmpfs[0]: tmpfs option \"uid=1\" is not supported yet"),
        ("privileged: maybe", "4:17: services.a.privileged: expected true or false"),
    ] {
        let e = one_err(&format!("services:\n  a:\n    {HOST}\n    {line}\n"));
        assert!(e.starts_with(want), "{line}: {e}");
    }
}

#[test]
fn blkio_config_loads_and_bad_entries_say_where() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    blkio_config:\n      weight: 300\n      weight_device: [{{ path: /dev/sda, weight: 400 }}]\n      device_read_bps: [{{ path: /dev/sda, rate: 12mb }}, {{ path: /dev/sdb, rate: 1024 }}]\n      device_write_iops: [{{ path: /dev/sda, rate: 30 }}]\n"
    ));
    let b = &s.services["a"].limits.blkio;
    assert_eq!(b.weight, Some(300));
    assert_eq!(
        b.weight_device,
        vec![DeviceWeight {
            path: "/dev/sda".into(),
            weight: 400
        }]
    );
    assert_eq!(b.device_read_bps[0].rate, 12 << 20);
    assert_eq!(b.device_read_bps[1].rate, 1024);
    assert_eq!(b.device_write_iops[0].rate, 30);
    assert!(b.device_write_bps.is_empty() && b.device_read_iops.is_empty());
    // Without it nothing is limited, and `stack config` shows nothing.
    let plain = ok(&format!("services:\n  a:\n    {HOST}\n"));
    assert!(plain.services["a"].limits.blkio.is_empty());

    for (body, want) in [
        ("weight: 5", "5:15: services.a.blkio_config.weight: blkio weight 5 out of range (10 to 1000)"),
        ("weight_device: [{ path: /dev/sda, weight: 2000 }]", "5:49: services.a.blkio_config.weight_device[0].weight: blkio weight 2000 out of range"),
        ("device_read_bps: [{ path: sda, rate: 1mb }]", "5:33: services.a.blkio_config.device_read_bps[0].path: device path \"sda\" must be absolute"),
        ("device_read_bps: [{ path: /dev/sda, rate: fast }]", "5:49: services.a.blkio_config.device_read_bps[0].rate: invalid size \"fast\""),
        ("device_write_iops: [{ path: /dev/sda, rate: 0 }]", "5:51: services.a.blkio_config.device_write_iops[0].rate: a rate of 0 is not a limit"),
        ("device_read_iops: [{ path: /dev/sda }]", "5:26: services.a.blkio_config.device_read_iops[0]: `rate` is required"),
        ("device_read_iops: [{ path: /dev/sda, rate: 1, speed: 2 }]", "5:53: services.a.blkio_config.device_read_iops[0].speed: unknown key `speed` (expected one of: path, rate)"),
        ("device_read_bps: [{ path: /dev/sda, rate: 1 }, { path: /dev/sda, rate: 2 }]", "5:54: services.a.blkio_config.device_read_bps[1]: /dev/sda is listed twice"),
        ("wieght: 300", "5:7: services.a.blkio_config.wieght: unknown key `wieght` (did you mean `weight`?)"),
    ] {
        let e = errs(&format!("services:\n  a:\n    {HOST}\n    blkio_config:\n      {body}\n"));
        assert_eq!(e.len(), 1, "{body}: {e:#?}");
        assert!(e[0].contains(want), "{body}: {e:?}");
    }
}
