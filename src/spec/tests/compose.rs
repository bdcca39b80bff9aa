//! `extends` and `include` (issue 13).

use super::*;

#[test]
fn extends_in_the_same_file_merges_and_drops_dependencies() {
    let s = ok(&format!(
        "services:\n  base:\n    {HOST}\n    environment: [A=1, B=2]\n    command: [sleep, '1']\n    depends_on: [db]\n  db:\n    {HOST}\n  web:\n    extends: base\n    environment: {{ B: '3' }}\n  deep:\n    extends: {{ service: web }}\n    user: nobody\n"
    ));
    let web = &s.services["web"];
    assert_eq!(web.environment["A"], "1");
    assert_eq!(web.environment["B"], "3");
    assert_eq!(web.command.as_deref().unwrap(), ["sleep", "1"]);
    assert!(web.depends_on.is_empty(), "depends_on is not inherited");
    let deep = &s.services["deep"];
    assert_eq!(deep.environment["B"], "3");
    assert_eq!(deep.user.as_deref(), Some("nobody"));
    assert!(s.services["base"].depends_on.contains_key("db"));
}

#[test]
fn extends_from_another_file_keeps_its_paths_relative_to_it() {
    let d = Dir::new();
    d.mkdir("common/html");
    d.write("common/app.env", "FROM=common\n");
    d.write(
        "common/base.yaml",
        &format!("services:\n  app:\n    {HOST}\n    env_file: app.env\n    volumes: [./html:/srv]\n  mid:\n    extends: app\n    user: daemon\n"),
    );
    let (s, _) = load_in(
        &d,
        "services:\n  web:\n    extends: { file: common/base.yaml, service: mid }\n",
        &[],
        &opts(),
    )
    .unwrap();
    let web = &s.services["web"];
    assert_eq!(web.environment["FROM"], "common");
    assert_eq!(web.user.as_deref(), Some("daemon"));
    let Mount::Bind { source, .. } = &web.volumes[0] else {
        panic!("{:?}", web.volumes)
    };
    assert_eq!(source, &d.path().join("common/html"));
}

#[test]
fn extends_problems() {
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    extends: ghost\n"
    ));
    assert!(
        e.contains(
            "services.a.extends: service `a` extends `ghost`, which is not defined in this file"
        ),
        "{e}"
    );
    let e = errs(&format!(
        "services:\n  a:\n    {HOST}\n    extends: b\n  b:\n    {HOST}\n    extends: a\n"
    ));
    assert!(
        e.iter()
            .any(|l| l.contains("extends goes round in a circle: a → b → a")),
        "{e:?}"
    );
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    extends: {{ file: nope.yaml, service: x }}\n"
    ));
    assert!(e.contains("services.a.extends.file: cannot read"), "{e}");
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    extends: {{ servce: x }}\n"
    ));
    assert!(e.contains("unknown key `servce` in extends"), "{e}");
}

#[test]
fn include_brings_a_project_with_its_own_directory_and_variables() {
    let d = Dir::new();
    d.mkdir("db/data");
    d.write("db/.env", "DBUSER=from-db-env\n");
    d.write(
        "db/compose.yaml",
        &format!("services:\n  db:\n    {HOST}\n    user: $DBUSER\n    volumes: [./data:/data, dbvol:/v]\nvolumes:\n  dbvol: {{}}\n"),
    );
    let (s, _) = load_in(
        &d,
        &format!(
            "include: [db/compose.yaml]\nservices:\n  web:\n    {HOST}\n    depends_on: [db]\n"
        ),
        &[],
        &opts(),
    )
    .unwrap();
    let db = &s.services["db"];
    assert_eq!(db.user.as_deref(), Some("from-db-env"));
    assert_eq!(
        db.volumes[0],
        Mount::Bind {
            source: d.path().join("db/data"),
            target: "/data".into(),
            read_only: false
        }
    );
    assert!(s.volumes.contains_key("dbvol"));
    assert!(s.services["web"].depends_on.contains_key("db"));
    // The long form, with an env_file instead of its .env.
    d.write("other.env", "DBUSER=from-other\n");
    let (s, _) = load_in(
        &d,
        "include:\n  - path: db/compose.yaml\n    env_file: other.env\n",
        &[],
        &opts(),
    )
    .unwrap();
    assert_eq!(s.services["db"].user.as_deref(), Some("from-other"));
}

#[test]
fn include_conflicts_and_cycles_are_errors() {
    let d = Dir::new();
    d.write("a.yaml", &format!("services:\n  web:\n    {HOST}\n"));
    let e = errs_in(
        &d,
        &format!("include: [a.yaml]\nservices:\n  web:\n    {HOST}\n"),
        &[],
        &opts(),
    );
    assert!(
        e.iter()
            .any(|l| l.contains("service `web` of the included")
                && l.contains("include does not merge")),
        "{e:?}"
    );
    d.write("loop.yaml", "include: [loop.yaml]\n");
    let e = errs_in(&d, "include: [loop.yaml]\n", &[], &opts());
    assert!(
        e.iter().any(|l| l.contains("already part of this project")),
        "{e:?}"
    );
    let e = errs_in(&d, "include: [missing.yaml]\n", &[], &opts());
    assert!(
        e.iter().any(|l| l.contains("include[0]: cannot read")),
        "{e:?}"
    );
}

#[test]
fn secrets_and_configs() {
    let d = Dir::new();
    d.write("pw.txt", "hunter2\n");
    let yaml = format!(
        "services:\n  a:\n    {HOST}\n    secrets: [pw, {{ source: token, target: api, uid: '7', gid: '8', mode: '0400' }}]\n    configs: [{{ source: app, target: /etc/app.conf }}, motd]\nsecrets:\n  pw: {{ file: pw.txt }}\n  token: {{ environment: TOKEN }}\nconfigs:\n  app: {{ content: \"debug = $DEBUG\" }}\n  motd: {{ file: pw.txt }}\n"
    );
    let (s, _) = load_in(&d, &yaml, &[("TOKEN", "s3cret"), ("DEBUG", "1")], &opts()).unwrap();
    let f = &s.services["a"].files;
    assert_eq!(f.len(), 4);
    assert_eq!(
        (f[0].kind, f[0].target.as_str(), f[0].mode),
        (FileKind::Secret, "/run/secrets/pw", 0o444)
    );
    assert_eq!(f[0].from, FileSource::File(d.path().join("pw.txt")));
    assert_eq!(
        (f[1].target.as_str(), f[1].uid, f[1].gid, f[1].mode),
        ("/run/secrets/api", 7, 8, 0o400)
    );
    assert_eq!(
        f[1].from,
        FileSource::Environment {
            var: "TOKEN".into(),
            value: Some("s3cret".into())
        }
    );
    assert_eq!(f[2].target, "/etc/app.conf");
    assert_eq!(f[2].from, FileSource::Content("debug = 1".into()));
    assert_eq!(f[3].target, "/motd");
    // The value is never written out.
    let json = serde_json::to_string(&s).unwrap();
    assert!(!json.contains("s3cret"), "{json}");
    assert!(json.contains("TOKEN"));
}

#[test]
fn secrets_problems() {
    let d = Dir::new();
    let e = errs_in(
        &d,
        &format!("services:\n  a:\n    {HOST}\n    secrets: [ghost]\nsecrets:\n  missing: {{ file: nope.txt }}\n  unset: {{ environment: NOPE_NOT_SET }}\n  swarm: {{ external: true }}\n  empty: {{}}\n"),
        &[],
        &opts(),
    );
    let has = |s: &str| e.iter().any(|l| l.contains(s));
    assert!(
        has("secret `ghost` is not declared; add it under the top-level `secrets:`"),
        "{e:#?}"
    );
    assert!(
        has("secrets.missing.file: secret file \"nope.txt\" not found"),
        "{e:#?}"
    );
    assert!(
        has("secrets.unset.environment: variable `NOPE_NOT_SET` is not set"),
        "{e:#?}"
    );
    assert!(
        has("secrets.swarm.external: `external` is for swarm's secrets"),
        "{e:#?}"
    );
    assert!(
        has("secrets.empty: secret `empty` needs `file` or `environment`"),
        "{e:#?}"
    );
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\nsecrets:\n  s: {{ content: x }}\n"
    ));
    assert!(e.contains("unknown key `content`"), "{e}");
}

#[test]
fn lifecycle_hooks() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    post_start:\n      - command: echo 'up now'\n        user: root\n        privileged: true\n        working_dir: /tmp\n        environment: [STAGE=hook]\n    pre_stop:\n      - command: [sh, -c, flush]\n"
    ));
    let a = &s.services["a"];
    assert_eq!(a.post_start[0].command, ["echo", "up now"]);
    assert_eq!(a.post_start[0].user.as_deref(), Some("root"));
    assert!(a.post_start[0].privileged);
    assert_eq!(a.post_start[0].environment["STAGE"], "hook");
    assert_eq!(a.pre_stop[0].command, ["sh", "-c", "flush"]);
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    post_start: [{{ user: root }}]\n"
    ));
    assert!(e.contains("`command` is required"), "{e}");
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    pre_stop: [{{ command: x, timeout: 3 }}]\n"
    ));
    assert!(e.contains("unknown key `timeout`"), "{e}");
}

#[test]
fn deploy_restart_policy_is_restart_with_its_timing() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    deploy: {{ restart_policy: {{ condition: on-failure, max_attempts: 3, delay: 2s, window: 30s }} }}\n  b:\n    {HOST}\n    deploy: {{ restart_policy: {{}} }}\n  c:\n    {HOST}\n    restart: 'no'\n    deploy: {{ restart_policy: {{ condition: none }} }}\n"
    ));
    let a = &s.services["a"];
    assert_eq!(
        a.restart,
        RestartPolicy::OnFailure {
            max_retries: Some(3)
        }
    );
    assert_eq!(a.restart_timing.delay, Some(Millis(2000)));
    assert_eq!(a.restart_timing.window, Some(Millis(30_000)));
    assert_eq!(
        s.services["b"].restart,
        RestartPolicy::Always,
        "any by default"
    );
    assert_eq!(
        s.services["c"].restart,
        RestartPolicy::No,
        "agreeing twice is fine"
    );
    let e = errs(&format!(
        "services:\n  a:\n    {HOST}\n    restart: always\n    deploy: {{ restart_policy: {{ condition: on-failure }} }}\n  b:\n    {HOST}\n    deploy: {{ restart_policy: {{ condition: sometimes, delay: 1ms }} }}\n  c:\n    {HOST}\n    deploy: {{ restart_policy: {{ max_attempts: 2, windows: 1s }} }}\n"
    ));
    let all = e.join("\n");
    for want in [
        "services.a.deploy.restart_policy: conflicts with services.a.restart (both say when to restart; give one)",
        "services.b.deploy.restart_policy.condition: invalid condition \"sometimes\" (expected any, on-failure or none)",
        "services.b.deploy.restart_policy.delay: delay 1ms is too short (at least 100ms",
        "services.c.deploy.restart_policy.max_attempts: max_attempts needs condition: on-failure",
        "services.c.deploy.restart_policy.windows: unknown key `windows` (did you mean `window`?)",
    ] {
        assert!(all.contains(want), "want {want:?} in:\n{all}");
    }
}

#[test]
fn volumes_from_shares_mounts_and_orders_the_start() {
    let d = Dir::new();
    d.mkdir("html");
    d.mkdir("own");
    let (s, _) = load_in(
        &d,
        &format!("services:\n  data:\n    {HOST}\n    volumes: [db:/var/lib/db, ./html:/srv, /anon]\n    tmpfs: [/scratch]\n  app:\n    {HOST}\n    volumes_from: ['data:ro']\n    volumes: [./own:/srv]\n  more:\n    {HOST}\n    volumes_from: [app]\nvolumes:\n  db:\n"),
        &[],
        &opts(),
    )
    .unwrap();
    let app = &s.services["app"];
    let targets = |svc: &Service| -> Vec<(String, bool)> {
        svc.volumes
            .iter()
            .filter_map(|m| match m {
                Mount::Bind {
                    target, read_only, ..
                }
                | Mount::Volume {
                    target, read_only, ..
                } => Some((target.clone(), *read_only)),
                Mount::Tmpfs { .. } => None,
            })
            .collect()
    };
    assert_eq!(
        targets(app),
        [
            ("/srv".into(), false),
            ("/var/lib/db".into(), true),
            ("/anon".into(), true)
        ],
        "its own /srv stays; the rest read-only"
    );
    let anon = |svc: &Service| {
        svc.volumes.iter().find_map(|m| match m {
            Mount::Volume { source, target, .. } if target == "/anon" => Some(source.clone()),
            _ => None,
        })
    };
    assert_eq!(
        anon(app),
        anon(&s.services["data"]),
        "the same anonymous volume"
    );
    assert_eq!(app.depends_on["data"].condition, Condition::ServiceStarted);
    let more = &s.services["more"];
    assert_eq!(targets(more).len(), 3, "chained: {:?}", targets(more));
    assert!(more.depends_on.contains_key("app"));

    let e = errs(&format!(
        "services:\n  a:\n    {HOST}\n    volumes_from: [dta, 'container:x', 'b:rx']\n  b:\n    {HOST}\n  data:\n    {HOST}\n"
    ));
    let all = e.join("\n");
    for want in [
        "services.a.volumes_from[0]: service `a` takes volumes from `dta`, which is not defined (did you mean `data`?)",
        "services.a.volumes_from[1]: \"container:x\": `volumes_from: container:` is not supported yet",
        "services.a.volumes_from[2]: \"b:rx\": unknown mode \"rx\" (expected ro or rw)",
    ] {
        assert!(all.contains(want), "want {want:?} in:\n{all}");
    }
    let e = errs(&format!(
        "services:\n  a:\n    {HOST}\n    volumes_from: [b]\n  b:\n    {HOST}\n    volumes_from: [a]\n"
    ));
    assert!(e.join("\n").contains("cycle"), "{e:?}");
}

#[test]
fn replicas_come_from_scale_or_deploy_and_must_agree() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    scale: 3\n  b:\n    {HOST}\n    deploy: {{ replicas: 0 }}\n  c:\n    {HOST}\n    scale: 2\n    deploy: {{ replicas: 2 }}\n  d:\n    {HOST}\n    ports: ['8000-8002:80', '90']\n    scale: 3\n  e:\n    {HOST}\n"
    ));
    let n = |x: &str| s.services[x].replicas;
    assert_eq!((n("a"), n("b"), n("c"), n("d"), n("e")), (3, 0, 2, 3, 1));
    let e = errs(&format!(
        "services:\n  a:\n    {HOST}\n    scale: 2\n    deploy: {{ replicas: 3 }}\n  b:\n    {HOST}\n    scale: -1\n  c:\n    {HOST}\n    container_name: cee\n    scale: 2\n  d:\n    {HOST}\n    ports: ['8080:80']\n    deploy: {{ replicas: 2 }}\n  e:\n    {HOST}\n    scale: 1001\n"
    ));
    assert_eq!(
        e,
        [
            "5:25: services.a.deploy.replicas: 3 conflicts with services.a.scale: 2 (both say how many replicas; give one)",
            "8:12: services.b.scale: expected 0 to 1000 replicas, found -1",
            "12:12: services.c.scale: 2 replicas cannot share one container_name; remove it or run one replica (given at services.c.container_name)",
            "16:25: services.d.deploy.replicas: 2 replicas cannot all publish host port 8080 (given at services.d.ports[0]): leave the host port out, or give a range of at least 2 ports (`8080-8081:80`)",
            "19:12: services.e.scale: expected 0 to 1000 replicas, found 1001",
        ]
    );
}
